"""The only globals a checkpoint may reference, per context, and the
harmless stand-ins they are rebuilt with. Anything else is refused by name.

Why each one is needed:
- NVIDIA network pickles (stylegan2-ada-pytorch, stylegan3): see
  ../shared/golden/tiny_nvlabs_network.globals.txt. builtins.set appears with
  pickle protocol < 4 (no EMPTY_SET opcode there).
- TensorFlow StyleGAN2 pickles: dnnlib.tflib.network.Network and numpy arrays
  and scalars (../shared/golden/tiny_tf_network.md).
- torch.save files (rosinality): OrderedDict, _rebuild_tensor_v2 and storage
  types; argparse.Namespace for the `args` entry of train.py checkpoints.
- _codecs.encode: protocol-2 pickles written by Python 3 encode bytes with it.
- numpy._core.*: the same numpy functions as pickled by numpy >= 2.
"""

from . import safe_pickle as sp
from . import torch_files as tf

# Storage element types a tensor may have. Only the floating ones are
# converted; the others may appear in optimiser state and are read as data.
_STORAGE_TYPES = {
    name: tf.StorageType(name, dtype) for name, dtype in [
        ("FloatStorage", "<f4"), ("DoubleStorage", "<f8"), ("HalfStorage", "<f2"),
        ("BFloat16Storage", "<u2"), ("LongStorage", "<i8"), ("IntStorage", "<i4"),
        ("ShortStorage", "<i2"), ("CharStorage", "i1"), ("ByteStorage", "u1"),
        ("BoolStorage", "?")]
}
_STORAGES = {("torch", name): st for name, st in _STORAGE_TYPES.items()}

_TENSORS = {
    ("torch._utils", "_rebuild_tensor_v2"): tf.rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): tf.rebuild_parameter,
}

_CONTAINERS = {
    ("collections", "OrderedDict"): sp.OrderedDictRecord,
    ("builtins", "set"): sp.make_set,
    ("_codecs", "encode"): sp.codecs_encode,
}

_NUMPY = {}
for _core in ("numpy.core.multiarray", "numpy._core.multiarray"):
    _NUMPY[(_core, "scalar")] = sp.numpy_scalar
    _NUMPY[(_core, "_reconstruct")] = sp.ArrayBuilder
_NUMPY[("numpy", "dtype")] = sp.DTypeSpec
_NUMPY[("numpy", "ndarray")] = sp.NDARRAY_TYPE

# A top-level pickle file: NVIDIA PyTorch network pickle or TensorFlow pickle.
NETWORK_PICKLE_GLOBALS = {
    **_CONTAINERS, **_TENSORS, **_NUMPY,
    ("torch.storage", "_load_from_bytes"): tf.load_from_bytes,
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): sp.reconstruct_persistent_obj,
    ("dnnlib.util", "EasyDict"): sp.EasyDictRecord,
    ("dnnlib.tflib.network", "Network"): sp.TFNetwork,
}

# The object pickle of a torch.save file (zip data.pkl or legacy stream).
TORCH_SAVE_GLOBALS = {
    **_CONTAINERS, **_TENSORS, **_STORAGES,
    ("argparse", "Namespace"): sp.NamespaceRecord,
}

# Inside torch.storage._load_from_bytes: the stream holds one storage.
STORAGE_STREAM_GLOBALS = dict(_STORAGES)

# The header pickles of a legacy stream (magic, version, sys info, key list).
NO_GLOBALS = {}
