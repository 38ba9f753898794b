"""The facemix generator config and the state-dict layout it implies.

The config is NVIDIA's Generator constructor kwargs, restricted to what
facemix runs (StyleGAN2 'skip' generator, unconditional); it is stored as
JSON in the model's __metadata__["config"] with this exact key order.
Keys and order are NVIDIA's G.state_dict(): synthesis before mapping; within
a module its parameters, then its buffers, then its submodules.
"""

import collections
import json
import math

BUFFER_SUFFIXES = ("resample_filter", "noise_const", "w_avg")


def make_config(z_dim, w_dim, img_resolution, img_channels, num_layers,
                channel_base, channel_max, num_fp16_res=0, conv_clamp=None):
    return collections.OrderedDict([
        ("z_dim", int(z_dim)), ("w_dim", int(w_dim)), ("c_dim", 0),
        ("img_resolution", int(img_resolution)), ("img_channels", int(img_channels)),
        ("mapping_kwargs", collections.OrderedDict([("num_layers", int(num_layers))])),
        ("synthesis_kwargs", collections.OrderedDict([
            ("channel_base", int(channel_base)), ("channel_max", int(channel_max)),
            ("num_fp16_res", int(num_fp16_res)),
            ("conv_clamp", None if conv_clamp is None else _number(conv_clamp)),
            ("architecture", "skip")])),
    ])


def _number(v):
    return int(v) if float(v).is_integer() else float(v)


def config_json(cfg):
    """The JSON text stored in the model (same formatting as the golden files)."""
    return json.dumps(cfg)


def check_config(cfg):
    """Returns a problem description, or None when facemix can run `cfg`."""
    r = cfg["img_resolution"]
    if r < 4 or r & (r - 1):
        return f"resolution {r} is not a power of two >= 4"
    for key in ("z_dim", "w_dim", "img_channels"):
        if cfg[key] <= 0:
            return f"{key} must be positive"
    if cfg["mapping_kwargs"]["num_layers"] < 1:
        return "the mapping network needs at least one layer"
    s = cfg["synthesis_kwargs"]
    if s["channel_base"] <= 0 or s["channel_max"] <= 0 or min_channels(cfg) < 1:
        return "channel_base/channel_max give a layer with no channels"
    return None


def block_resolutions(cfg):
    r, out = 4, []
    while r <= cfg["img_resolution"]:
        out.append(r)
        r *= 2
    return out


def channels(cfg, res):
    s = cfg["synthesis_kwargs"]
    return min(s["channel_base"] // res, s["channel_max"])


def min_channels(cfg):
    return min(channels(cfg, r) for r in block_resolutions(cfg))


def num_ws(cfg):
    return 2 * len(block_resolutions(cfg))  # 2*log2(R) - 2


def expected_shapes(cfg):
    """OrderedDict {NVIDIA state-dict key: shape} in state-dict order."""
    w, rgb = cfg["w_dim"], cfg["img_channels"]
    out = collections.OrderedDict()

    def layer(prefix, cin, cout, res):
        out[f"{prefix}.weight"] = (cout, cin, 3, 3)
        out[f"{prefix}.noise_strength"] = ()
        out[f"{prefix}.bias"] = (cout,)
        out[f"{prefix}.resample_filter"] = (4, 4)
        out[f"{prefix}.noise_const"] = (res, res)
        out[f"{prefix}.affine.weight"] = (cin, w)
        out[f"{prefix}.affine.bias"] = (cin,)

    def torgb(prefix, cin):
        out[f"{prefix}.weight"] = (rgb, cin, 1, 1)
        out[f"{prefix}.bias"] = (rgb,)
        out[f"{prefix}.affine.weight"] = (cin, w)
        out[f"{prefix}.affine.bias"] = (cin,)

    for res in block_resolutions(cfg):
        b, c = f"synthesis.b{res}", channels(cfg, res)
        if res == 4:
            out[f"{b}.const"] = (c, 4, 4)
        out[f"{b}.resample_filter"] = (4, 4)
        if res == 4:
            layer(f"{b}.conv1", c, c, res)
        else:
            layer(f"{b}.conv0", channels(cfg, res // 2), c, res)
            layer(f"{b}.conv1", c, c, res)
        torgb(f"{b}.torgb", c)
    out["mapping.w_avg"] = (w,)
    n = cfg["mapping_kwargs"]["num_layers"]
    for i in range(n):
        fin = cfg["z_dim"] if i == 0 else w
        out[f"mapping.fc{i}.weight"] = (w, fin)
        out[f"mapping.fc{i}.bias"] = (w,)
    return out


def is_buffer(key):
    return key.rsplit(".", 1)[-1] in BUFFER_SUFFIXES


def parameter_count(cfg):
    """NVIDIA's parameter count (buffers excluded): 30,370,060 for FFHQ-1024 config-f."""
    return sum(math.prod(shape) for key, shape in expected_shapes(cfg).items() if not is_buffer(key))


def value_count(cfg):
    """All stored float32 values (parameters and buffers)."""
    return sum(math.prod(shape) for shape in expected_shapes(cfg).values())


def infer_channel_table(found):
    """(channel_base, channel_max) reproducing {resolution: channels} as
    min(channel_base // r, channel_max), or None when no pair does.
    The smallest channel_base that fits is chosen (the tables are equal)."""
    cmax = max(found.values())
    lo, hi = 1, None
    for r, c in found.items():
        if c == cmax:
            lo = max(lo, cmax * r)
        else:
            lo = max(lo, c * r)
            hi = (c + 1) * r if hi is None else min(hi, (c + 1) * r)
    if hi is not None and lo >= hi:
        return None
    if any(min(lo // r, cmax) != c for r, c in found.items()):
        return None
    return lo, cmax
