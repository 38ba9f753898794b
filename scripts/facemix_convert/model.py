"""A converted generator: config + tensors, verified against each other.

Every format converter hands assemble() a {NVIDIA key: value} dict; assemble
checks it against the shapes the config implies, adds what the format cannot
hold (resample_filter constants, an estimated w_avg) and returns the tensors
in state-dict order as float32 arrays.
"""

import collections
import sys

import numpy as np

from . import mapping_net, stylegan_config as sc
from .errors import ModelError
from .torch_files import shape_of, to_float32

# NVIDIA's resample filter buffer: outer([1,3,3,1]) normalised to sum 1 (exact in float32).
RESAMPLE_FILTER = (np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64.0).astype(np.float32)


class ConvertedModel:
    def __init__(self, kind, network, config, tensors, w_avg_source, warnings):
        self.kind = kind                  # format label, e.g. "nvlabs-pytorch"
        self.network = network            # which network of the file was used
        self.config = config
        self.tensors = tensors            # OrderedDict key -> float32 array
        self.w_avg_source = w_avg_source  # human-readable
        self.warnings = warnings

    def metadata(self):
        return collections.OrderedDict([
            ("format", "facemix-stylegan2"), ("version", "1"),
            ("config", sc.config_json(self.config))])


def assemble(kind, network, cfg, found, w_avg_missing_reason=None, add_filters=False,
             warnings=None):
    """Verifies and completes a converted state dict.

    requires: `found` maps NVIDIA keys to checkpoint values (TensorRef, numpy).
    ensures:  every key of expected_shapes(cfg) present with its shape, in
              order, float32, finite; mapping.w_avg estimated when the file
              has none (w_avg_missing_reason says why, for the report).
    throws:   ModelError naming the first missing/unexpected/misshaped tensor.
    """
    problem = sc.check_config(cfg)
    if problem:
        raise ModelError(f"unsupported generator config: {problem}")
    expected = sc.expected_shapes(cfg)
    found = dict(found)
    if add_filters:
        for key in expected:
            if key.endswith(".resample_filter"):
                found.setdefault(key, RESAMPLE_FILTER)
    estimate_w_avg = w_avg_missing_reason is not None
    if estimate_w_avg:
        if "mapping.w_avg" in found:
            raise ModelError("internal error: w_avg both present and missing")
        found["mapping.w_avg"] = None

    unexpected = [k for k in found if k not in expected]
    if unexpected:
        raise ModelError(f"unexpected tensor {unexpected[0]} for a {describe(cfg)} generator"
                         + _more(unexpected))
    missing = [k for k in expected if k not in found]
    if missing:
        raise ModelError(f"missing tensor {missing[0]} for a {describe(cfg)} generator"
                         + _more(missing))
    for key, shape in expected.items():
        if found[key] is None:
            continue
        got = shape_of(found[key])
        if got != tuple(shape):
            raise ModelError(f"tensor {key} has shape {list(got) if got is not None else '?'}, "
                             f"but the config ({describe(cfg)}) implies {list(shape)}")

    tensors = collections.OrderedDict()
    for key in expected:
        if found[key] is None:
            continue
        arr = to_float32(found[key], key)
        if not np.all(np.isfinite(arr)):
            raise ModelError(f"tensor {key} contains NaN or infinite values")
        tensors[key] = arr
    for key, arr in tensors.items():
        if key.endswith(".resample_filter") and not np.array_equal(arr, RESAMPLE_FILTER):
            raise ModelError(f"{key} is not the [1,3,3,1] filter facemix implements")

    if estimate_w_avg:
        print(f"convert_weights.py: note: {w_avg_missing_reason}; estimating w_avg from "
              f"{mapping_net.W_AVG_SAMPLES} mapping samples (up to a minute for a 512-wide mapping)",
              file=sys.stderr)
        w_avg = mapping_net.estimate_w_avg(tensors, cfg["mapping_kwargs"]["num_layers"], cfg["z_dim"])
        source = (f"estimated: {w_avg_missing_reason}; mean of mapping(z) over "
                  f"{mapping_net.W_AVG_SAMPLES} z ~ N(0,I) (numpy PCG64 seed {mapping_net.W_AVG_SEED})")
    else:
        w_avg, source = tensors["mapping.w_avg"], "stored in the file"
    tensors = collections.OrderedDict(
        (k, w_avg if k == "mapping.w_avg" else tensors[k]) for k in expected)
    return ConvertedModel(kind, network, cfg, tensors, source, list(warnings or []))


def describe(cfg):
    s = cfg["synthesis_kwargs"]
    return (f"{cfg['img_resolution']}px z{cfg['z_dim']} w{cfg['w_dim']} "
            f"map{cfg['mapping_kwargs']['num_layers']} "
            f"base{s['channel_base']} max{s['channel_max']}")


def _more(items):
    return f" (and {len(items) - 1} more)" if len(items) > 1 else ""
