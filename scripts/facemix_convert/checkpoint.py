"""Recognises a checkpoint by its content and dispatches to its converter.

Containers, told apart by their first bytes (never by the file extension):
- b"PK\\x03\\x04": a torch.save zip file (PyTorch >= 1.6)         -> rosinality
- the legacy torch.save magic pickle                             -> rosinality
- any other pickle (b"\\x80" + protocol 2..5): a network pickle  -> NVIDIA
  PyTorch ({G, D, G_ema, ...}) or TensorFlow ((G, D, Gs)), told apart by
  the objects the restricted unpickler rebuilt.
"""

import io
import struct

from . import allowlist, from_nvlabs, from_rosinality, from_tf
from .errors import ModelError
from .safe_pickle import PersistentObject, load_pickle
from .torch_files import LEGACY_FILE_PREFIX, Storage, TensorRef, read_torch_legacy_file, read_torch_zip

FORMAT_NAMES = {
    from_nvlabs.KIND: "NVIDIA PyTorch network pickle (stylegan2-ada-pytorch / stylegan3 release)",
    from_tf.KIND: "NVIDIA TensorFlow StyleGAN2 network pickle",
    from_rosinality.KIND: "rosinality stylegan2-pytorch checkpoint",
}


class Checkpoint:
    def __init__(self, container, kind, top):
        self.container = container  # e.g. "pickle protocol 4", "torch.save zip"
        self.kind = kind            # a converter KIND
        self.top = top              # the rebuilt top-level object

    @property
    def format_name(self):
        return FORMAT_NAMES[self.kind]

    def networks(self):
        return {from_nvlabs.KIND: from_nvlabs.networks, from_tf.KIND: from_tf.networks,
                from_rosinality.KIND: from_rosinality.networks}[self.kind](self.top)

    def convert(self, network):
        """network: 'G_ema' (the averaged generator; TF Gs, rosinality g_ema) or 'G'."""
        mod = {from_nvlabs.KIND: from_nvlabs, from_tf.KIND: from_tf,
               from_rosinality.KIND: from_rosinality}[self.kind]
        return mod.convert(self.top, network)


def sniff(data):
    """The container kind of `data`, or ModelError saying what it is not."""
    if len(data) < 16:
        raise ModelError("file is too short to be a checkpoint")
    if data[:4] == b"PK\x03\x04":
        return "torch.save zip"
    if data.startswith(LEGACY_FILE_PREFIX):
        return "torch.save legacy"
    if data[0] == 0x80 and 2 <= data[1] <= 5:
        return f"pickle protocol {data[1]}"
    (n,) = struct.unpack("<Q", data[:8])
    if data[8:9] == b"{" and n < len(data):
        raise ModelError("this is already a safetensors file (facemix models need no conversion)")
    if data[257:262] == b"ustar":
        raise ModelError("tar-format torch.save files (PyTorch < 0.4) are not supported")
    raise ModelError("not a recognised checkpoint (expected a network pickle or a torch.save file)")


def load(data):
    """Parses `data` with the restricted unpickler and identifies its kind."""
    container = sniff(data)
    if container == "torch.save zip":
        return _torch_save(container, read_torch_zip(data))
    if container == "torch.save legacy":
        return _torch_save(container, read_torch_legacy_file(data))
    top = load_pickle(io.BytesIO(data), allowlist.NETWORK_PICKLE_GLOBALS, what="network pickle")
    if isinstance(top, dict) and any(isinstance(v, PersistentObject) for v in top.values()):
        return Checkpoint(container, from_nvlabs.KIND, top)
    if from_tf.networks(top):
        return Checkpoint(container, from_tf.KIND, top)
    raise ModelError(f"the pickle holds a {type(top).__name__} that is neither an NVIDIA PyTorch "
                     "nor a TensorFlow StyleGAN2 network pickle")


def _torch_save(container, top):
    if isinstance(top, dict) and (from_rosinality.is_generator_state_dict(top) or any(
            from_rosinality.is_generator_state_dict(v) for v in top.values())):
        return Checkpoint(container, from_rosinality.KIND, top)
    if isinstance(top, dict) and any(isinstance(k, str) and k.startswith("synthesis.b4.") for k in top):
        raise ModelError("this is a bare NVIDIA state dict without its config; convert the "
                         "network pickle (.pkl) it came from instead")
    raise ModelError("the torch.save data is not a rosinality StyleGAN2 checkpoint")


def count_values(obj, _depth=0):
    """Number of tensor elements reachable from `obj` (for --info)."""
    import math
    from .safe_pickle import ArrayBuilder, TFNetwork
    if _depth > 64:
        return 0
    if isinstance(obj, TensorRef):
        return math.prod(obj.shape)
    if isinstance(obj, Storage):
        return 0
    if isinstance(obj, ArrayBuilder):
        return obj.array.size if obj.array is not None else 0
    if isinstance(obj, PersistentObject):
        st = obj.state
        return sum(count_values(st.get(k, {}), _depth + 1)
                   for k in ("_parameters", "_buffers", "_modules"))
    if isinstance(obj, TFNetwork):
        vs = obj.state.get("variables", [])
        comps = obj.state.get("components", {})
        own = sum(count_values(item[1], _depth + 1) for item in vs
                  if isinstance(item, tuple) and len(item) == 2) if isinstance(vs, list) else 0
        return own + (sum(count_values(c, _depth + 1) for c in comps.values())
                      if isinstance(comps, dict) else 0)
    if isinstance(obj, dict):
        return sum(count_values(v, _depth + 1) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(count_values(v, _depth + 1) for v in obj)
    return 1 if hasattr(obj, "dtype") and hasattr(obj, "shape") and obj.shape == () else 0
