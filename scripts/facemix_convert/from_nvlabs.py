"""NVIDIA PyTorch network pickles (stylegan2-ada-pytorch; StyleGAN2 pickles of
the stylegan3 release): {G, D, G_ema, ...} of persistent modules.

Keys already are NVIDIA's state-dict keys; only _parameters, _buffers (minus
_non_persistent_buffers_set) and _modules are read (other __dict__ entries
differ between PyTorch versions). The config comes from the Generator's
recorded constructor arguments (_init_args/_init_kwargs).
"""

import collections

from . import stylegan_config as sc
from .errors import ModelError
from .model import assemble
from .safe_pickle import PersistentObject

KIND = "nvlabs-pytorch"
_GENERATOR_ARGS = ["z_dim", "c_dim", "w_dim", "img_resolution", "img_channels",
                   "mapping_kwargs", "synthesis_kwargs"]
# kwargs that change nothing facemix computes (training/runtime switches).
_IGNORED = {"w_avg_beta", "embed_features", "use_fp16", "fp16_channels_last", "channels_last",
            "fused_modconv_default", "kernel_size"}


def networks(top):
    return [k for k, v in top.items() if isinstance(v, PersistentObject)]


def convert(top, network):
    name = {"G_ema": "G_ema", "G": "G"}[network]
    g = top.get(name)
    if not isinstance(g, PersistentObject):
        raise ModelError(f"the network pickle has no {name} generator "
                         f"(it holds: {', '.join(networks(top)) or 'no networks'})")
    if g.class_name != "Generator":
        raise ModelError(f"{name} is a {g.class_name}, not a StyleGAN2 Generator")
    warnings = []
    cfg = _config(g.state, warnings)
    found = collections.OrderedDict()
    _collect(g, "", found)
    if any(k.startswith("synthesis.input.") or ".L0_" in k for k in found):
        raise ModelError("this is a StyleGAN3 (alias-free) generator; facemix runs StyleGAN2 only")
    return assemble(KIND, name, cfg, found, warnings=warnings)


def _collect(module, prefix, out):
    st = module.state
    params, buffers = st.get("_parameters", {}), st.get("_buffers", {})
    skip = st.get("_non_persistent_buffers_set", set())
    children = st.get("_modules", {})
    if not all(isinstance(d, dict) for d in (params, buffers, children)):
        raise ModelError(f"malformed module {prefix or module.class_name} in the pickle")
    for key, value in params.items():
        if value is not None:
            out[prefix + key] = value
    for key, value in buffers.items():
        if value is not None and key not in skip:
            out[prefix + key] = value
    for key, child in children.items():
        if child is None:
            continue
        if not isinstance(child, PersistentObject):
            raise ModelError(f"module {prefix + key} has an unsupported type")
        _collect(child, f"{prefix}{key}.", out)


def _config(state, warnings):
    args, kwargs = state.get("_init_args", ()), state.get("_init_kwargs", {})
    if not isinstance(args, (tuple, list)) or not isinstance(kwargs, dict):
        raise ModelError("the Generator does not record its constructor arguments")
    kw = dict(zip(_GENERATOR_ARGS, args))
    kw.update(kwargs)
    for key in _GENERATOR_ARGS[:5]:
        if not isinstance(kw.get(key), int):
            raise ModelError(f"the Generator's constructor argument {key} is missing")
    mapping = dict(kw.pop("mapping_kwargs", None) or {})
    synthesis = dict(kw.pop("synthesis_kwargs", None) or {})
    for key in list(kw):  # stylegan3's Generator takes synthesis kwargs flat
        if key not in _GENERATOR_ARGS:
            synthesis[key] = kw.pop(key)
    if kw["c_dim"] != 0:
        raise ModelError(f"conditional generators (c_dim={kw['c_dim']}) are not supported")

    def take(d, key, default, allowed=None):
        v = d.pop(key, default)
        if allowed is not None and v not in allowed:
            raise ModelError(f"unsupported generator setting {key}={v!r}")
        return v

    num_layers = take(mapping, "num_layers", 8)
    take(mapping, "layer_features", None, (None, kw["w_dim"]))
    take(mapping, "activation", "lrelu", ("lrelu",))
    take(mapping, "lr_multiplier", 0.01, (0.01,))
    take(synthesis, "architecture", "skip", ("skip",))
    take(synthesis, "resample_filter", None, (None, [1, 3, 3, 1]))
    take(synthesis, "activation", "lrelu", ("lrelu",))
    take(synthesis, "use_noise", True, (True,))
    cfg = sc.make_config(
        kw["z_dim"], kw["w_dim"], kw["img_resolution"], kw["img_channels"], num_layers,
        take(synthesis, "channel_base", 32768), take(synthesis, "channel_max", 512),
        take(synthesis, "num_fp16_res", 0), take(synthesis, "conv_clamp", None))
    for key in sorted(set(mapping) | set(synthesis)):
        if key not in _IGNORED:
            warnings.append(f"ignoring unknown generator argument {key}")
    return cfg
