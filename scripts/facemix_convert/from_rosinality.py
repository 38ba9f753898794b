"""rosinality/stylegan2-pytorch checkpoints: torch.save({"g_ema": state_dict,
"latent_avg": w_avg, ...}) (../shared/golden/tiny_rosinality.md).

No weight needs a flip, transpose or gain: leading singleton dims are dropped
and [1,1,R,R] noise buffers become [R,R]. The config is inferred from the
tensor shapes (rosinality hard-codes a channel table, which is expressed as
NVIDIA's channel_base/channel_max). The constant blur kernels are checked and
dropped; NVIDIA's resample_filter constants are added.
"""

import re

import numpy as np

from . import stylegan_config as sc
from .errors import ModelError
from .model import RESAMPLE_FILTER, assemble
from .torch_files import TensorRef, shape_of, to_float32

KIND = "rosinality"
_NAMES = {"G_ema": "g_ema", "G": "g"}


def is_generator_state_dict(d):
    return isinstance(d, dict) and "style.1.weight" in d and "input.input" in d


def networks(ckpt):
    if is_generator_state_dict(ckpt):
        return ["(bare generator state dict)"]
    return [k for k, v in ckpt.items() if isinstance(v, dict)]


def convert(ckpt, network):
    if not isinstance(ckpt, dict):
        raise ModelError("torch.save data is not a dict (not a rosinality checkpoint)")
    if is_generator_state_dict(ckpt):
        name, sd, latent_avg = "state dict", ckpt, None
    else:
        name = _NAMES[network]
        sd = ckpt.get(name)
        if not is_generator_state_dict(sd):
            raise ModelError(f"the checkpoint has no rosinality generator '{name}' "
                             f"(it holds: {', '.join(map(str, ckpt)) or 'nothing'})")
        latent_avg = ckpt.get("latent_avg")
    if not all(isinstance(k, str) and isinstance(v, TensorRef) for k, v in sd.items()):
        raise ModelError(f"'{name}' is not a state dict of tensors")
    cfg = _config(sd)
    src = dict(sd)

    def take(key, shape=None):
        if key not in src:
            raise ModelError(f"the rosinality generator lacks {key}")
        arr = to_float32(src.pop(key), key)
        return arr if shape is None else _reshape(arr, shape, key)

    found = {}
    for i in range(cfg["mapping_kwargs"]["num_layers"]):
        found[f"mapping.fc{i}.weight"] = take(f"style.{i + 1}.weight")
        found[f"mapping.fc{i}.bias"] = take(f"style.{i + 1}.bias")
    found["synthesis.b4.const"] = take("input.input", "drop1")
    _conv(found, take, "synthesis.b4.conv1", "conv1", "noises.noise_0")
    _torgb(found, take, "synthesis.b4.torgb", "to_rgb1")
    for k, res in enumerate(sc.block_resolutions(cfg)[1:]):
        b = f"synthesis.b{res}"
        _conv(found, take, f"{b}.conv0", f"convs.{2 * k}", f"noises.noise_{2 * k + 1}")
        _conv(found, take, f"{b}.conv1", f"convs.{2 * k + 1}", f"noises.noise_{2 * k + 2}")
        _torgb(found, take, f"{b}.torgb", f"to_rgbs.{k}")
    for key in [k for k in src if k.endswith(".blur.kernel") or k.endswith(".upsample.kernel")]:
        if not np.array_equal(take(key), 4 * RESAMPLE_FILTER):
            raise ModelError(f"{key} is not the [1,3,3,1] blur kernel facemix implements")
    if src:
        raise ModelError(f"unexpected tensor {sorted(src)[0]} in the rosinality generator")

    missing_reason = None
    if latent_avg is None:
        missing_reason = "the checkpoint has no latent_avg (rosinality train.py does not store it)"
    else:
        found["mapping.w_avg"] = latent_avg
    return assemble(KIND, name, cfg, found, w_avg_missing_reason=missing_reason, add_filters=True)


def _conv(found, take, prefix, src, noise):
    found[f"{prefix}.weight"] = take(f"{src}.conv.weight", "drop1")
    found[f"{prefix}.affine.weight"] = take(f"{src}.conv.modulation.weight")
    # rosinality's modulation bias already includes the +1 (initialised to 1).
    found[f"{prefix}.affine.bias"] = take(f"{src}.conv.modulation.bias")
    found[f"{prefix}.noise_strength"] = take(f"{src}.noise.weight", "scalar")
    found[f"{prefix}.bias"] = take(f"{src}.activate.bias")
    found[f"{prefix}.noise_const"] = take(noise, "drop2")


def _torgb(found, take, prefix, src):
    found[f"{prefix}.weight"] = take(f"{src}.conv.weight", "drop1")
    found[f"{prefix}.affine.weight"] = take(f"{src}.conv.modulation.weight")
    found[f"{prefix}.affine.bias"] = take(f"{src}.conv.modulation.bias")
    found[f"{prefix}.bias"] = take(f"{src}.bias", "flat")


def _reshape(arr, how, key):
    ok = {"drop1": arr.ndim >= 1 and arr.shape[:1] == (1,),
          "drop2": arr.ndim >= 2 and arr.shape[:2] == (1, 1),
          "scalar": arr.size == 1,
          "flat": arr.ndim == 4 and arr.shape[0] == 1 and arr.shape[2:] == (1, 1)}[how]
    if not ok:
        raise ModelError(f"rosinality tensor {key} has an unexpected shape {list(arr.shape)}")
    if how == "drop1":
        return arr[0]
    if how == "drop2":
        return arr[0, 0]
    return arr.reshape(()) if how == "scalar" else arr.reshape(-1)


def _config(sd):
    def shape(key, ndim):
        s = shape_of(sd.get(key))
        if s is None or len(s) != ndim:
            raise ModelError(f"the rosinality generator lacks {key} or it has a bad shape")
        return s

    n_mlp = len([k for k in sd if re.fullmatch(r"style\.\d+\.weight", k)])
    style_dim = shape("style.1.weight", 2)[1]
    n_rgbs = len([k for k in sd if re.fullmatch(r"to_rgbs\.\d+\.conv\.weight", k)])
    size = 2 ** (n_rgbs + 2)
    found = {4: shape("input.input", 4)[1]}
    for k, res in enumerate(2 ** e for e in range(3, n_rgbs + 3)):
        found[res] = shape(f"convs.{2 * k}.conv.weight", 5)[1]
    table = sc.infer_channel_table(found)
    if table is None:
        raise ModelError("the channel counts "
                         + ", ".join(f"{r}px:{c}" for r, c in found.items())
                         + " are not min(channel_base/r, channel_max) for any channel_base")
    img_channels = shape("to_rgb1.conv.weight", 5)[1]
    return sc.make_config(style_dim, style_dim, size, img_channels, n_mlp, table[0], table[1])
