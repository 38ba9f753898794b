"""NVIDIA's TensorFlow StyleGAN2 pickles: a tuple (G, D, Gs) of
dnnlib.tflib.network.Network states (../shared/golden/tiny_tf_network.md).

Conversion per variable: conv weights [kh,kw,in,out] -> [out,in,kh,kw];
Conv0_up weights are also flipped spatially (TF stores the up-conv kernel
flipped); dense/mod weights [in,out] -> [out,in]; mod_bias + 1 (TF stores
affine bias - 1); noise [1,1,R,R] -> [R,R]; 0-d values stay 0-d.
"""

import numpy as np

from . import stylegan_config as sc
from .errors import ModelError
from .model import assemble
from .safe_pickle import TFNetwork
from .torch_files import to_float32

KIND = "tensorflow"
# static_kwargs read, with the TF defaults used when a pickle omits them.
_DEFAULTS = {
    "latent_size": 512, "dlatent_size": 512, "resolution": 1024, "num_channels": 3,
    "label_size": 0, "mapping_layers": 8, "mapping_fmaps": None, "mapping_lrmul": 0.01,
    "fmap_base": 16384, "fmap_max": 512, "architecture": "skip",
    "resample_kernel": [1, 3, 3, 1], "nonlinearity": "lrelu", "mapping_nonlinearity": "lrelu",
    "use_noise": True, "num_fp16_res": 0, "conv_clamp": None, "fmap_min": 1, "fmap_decay": 1.0,
}
# Runtime/training switches that do not change the weights' meaning.
_IGNORED = {"truncation_psi", "truncation_cutoff", "style_mixing_prob", "structure",
            "fused_modconv", "randomize_noise", "dtype", "dlatent_avg_beta", "w_avg_beta",
            "is_template_graph", "components", "label_fmaps", "conditioning"}
_REQUIRED_EQUAL = {"label_size": (0,), "mapping_lrmul": (0.01,), "architecture": ("skip",),
                   "resample_kernel": ([1, 3, 3, 1],), "nonlinearity": ("lrelu",),
                   "mapping_nonlinearity": ("lrelu",), "use_noise": (True,),
                   "fmap_min": (1,), "fmap_decay": (1, 1.0)}


def networks(top):
    return ["G", "D", "Gs"] if _is_tf_tuple(top) else []


def _is_tf_tuple(top):
    return isinstance(top, (tuple, list)) and len(top) == 3 and all(isinstance(n, TFNetwork) for n in top)


def convert(top, network):
    if not _is_tf_tuple(top):
        raise ModelError("not a TensorFlow StyleGAN2 pickle (expected a tuple (G, D, Gs))")
    name, net = ("Gs", top[2]) if network == "G_ema" else ("G", top[0])
    st = net.state
    if not isinstance(st.get("version"), int) or st["version"] < 4:
        raise ModelError(f"TensorFlow network version {st.get('version')!r} is not supported (needs >= 4)")
    cfg, kw = _config(st.get("static_kwargs"))
    comps = st.get("components")
    if not isinstance(comps, dict) or not all(isinstance(comps.get(c), TFNetwork)
                                              for c in ("synthesis", "mapping")):
        raise ModelError(f"{name} has no synthesis/mapping components (not a StyleGAN2 generator)")
    syn, mapping, own = (_variables(comps["synthesis"].state, "synthesis"),
                         _variables(comps["mapping"].state, "mapping"), _variables(st, name))
    found = {}
    for i in range(cfg["mapping_kwargs"]["num_layers"]):
        found[f"mapping.fc{i}.weight"] = _get(mapping, f"Dense{i}/weight", 2, "mapping").T
        found[f"mapping.fc{i}.bias"] = _get(mapping, f"Dense{i}/bias", 1, "mapping")
    for res in sc.block_resolutions(cfg):
        b, scope = f"synthesis.b{res}", f"{res}x{res}"
        if res == 4:
            found[f"{b}.const"] = _get(syn, "4x4/Const/const", 4, "synthesis")[0]
            _layer(found, syn, f"{b}.conv1", "4x4/Conv", "noise0", flip=False)
        else:
            k = res.bit_length() - 1
            _layer(found, syn, f"{b}.conv0", f"{scope}/Conv0_up", f"noise{2 * k - 5}", flip=True)
            _layer(found, syn, f"{b}.conv1", f"{scope}/Conv1", f"noise{2 * k - 4}", flip=False)
        _torgb(found, syn, f"{b}.torgb", f"{scope}/ToRGB")
    missing_reason = None
    if "dlatent_avg" in own:
        found["mapping.w_avg"] = _get(own, "dlatent_avg", 1, name)
    else:
        missing_reason = f"the TensorFlow {name} network has no dlatent_avg"
    return assemble(KIND, name, cfg, found, w_avg_missing_reason=missing_reason, add_filters=True)


def _config(kw):
    if not isinstance(kw, dict):
        raise ModelError("the TensorFlow network has no static_kwargs")
    unknown = sorted(k for k in kw if k not in _DEFAULTS and k not in _IGNORED)
    if unknown:
        raise ModelError(f"unsupported TensorFlow generator argument {unknown[0]}")
    v = {k: kw.get(k, d) for k, d in _DEFAULTS.items()}
    for key, allowed in _REQUIRED_EQUAL.items():
        if v[key] not in allowed:
            raise ModelError(f"unsupported TensorFlow generator setting {key}={v[key]!r}")
    if v["mapping_fmaps"] not in (None, v["dlatent_size"]):
        raise ModelError(f"mapping width {v['mapping_fmaps']} differs from dlatent_size "
                         f"{v['dlatent_size']}; facemix needs them equal")
    try:
        cfg = sc.make_config(v["latent_size"], v["dlatent_size"], v["resolution"], v["num_channels"],
                             v["mapping_layers"], 2 * v["fmap_base"], v["fmap_max"],
                             v["num_fp16_res"], v["conv_clamp"])
    except (TypeError, ValueError):
        raise ModelError("malformed TensorFlow static_kwargs (non-numeric size)") from None
    return cfg, v


def _variables(state, where):
    pairs = state.get("variables")
    if not isinstance(pairs, list):
        raise ModelError(f"TensorFlow network {where} has no variable list")
    out = {}
    for item in pairs:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise ModelError(f"malformed variable list in TensorFlow network {where}")
        if item[0] in out:
            raise ModelError(f"TensorFlow network {where} has the variable {item[0]} twice")
        out[item[0]] = item[1]
    return out


def _get(variables, name, ndim, where):
    if name not in variables:
        raise ModelError(f"TensorFlow network {where} lacks the variable {name}")
    arr = to_float32(variables[name], f"{where}/{name}")
    if arr.ndim != ndim and not (ndim == 0 and arr.size == 1):
        raise ModelError(f"TensorFlow variable {where}/{name} has shape {list(arr.shape)}, "
                         f"expected {ndim} dimensions")
    return arr.reshape(()) if ndim == 0 else arr


def _affine(found, syn, prefix, scope):
    found[f"{prefix}.affine.weight"] = np.ascontiguousarray(_get(syn, f"{scope}/mod_weight", 2, "synthesis").T)
    # Exact for biases in [0.5, 2], where subtracting/adding 1 loses no bits.
    found[f"{prefix}.affine.bias"] = _get(syn, f"{scope}/mod_bias", 1, "synthesis") + np.float32(1)


def _layer(found, syn, prefix, scope, noise, flip):
    w = _get(syn, f"{scope}/weight", 4, "synthesis")
    if flip:
        w = w[::-1, ::-1]
    found[f"{prefix}.weight"] = np.ascontiguousarray(w.transpose(3, 2, 0, 1))
    found[f"{prefix}.noise_strength"] = _get(syn, f"{scope}/noise_strength", 0, "synthesis")
    found[f"{prefix}.bias"] = _get(syn, f"{scope}/bias", 1, "synthesis")
    found[f"{prefix}.noise_const"] = _get(syn, noise, 4, "synthesis")[0, 0]
    _affine(found, syn, prefix, scope)


def _torgb(found, syn, prefix, scope):
    w = _get(syn, f"{scope}/weight", 4, "synthesis")
    found[f"{prefix}.weight"] = np.ascontiguousarray(w.transpose(3, 2, 0, 1))
    found[f"{prefix}.bias"] = _get(syn, f"{scope}/bias", 1, "synthesis")
    _affine(found, syn, prefix, scope)
