"""Tensors and torch.save streams, read with numpy only (torch is not used).

Three containers hold PyTorch tensors in the supported checkpoints:
- a plain pickle (NVIDIA network pickles): each storage is
  torch.storage._load_from_bytes(<a legacy torch.save stream>);
- a zip file from torch.save (PyTorch >= 1.6): <prefix>/data.pkl refers to
  storages by persistent id, the raw bytes are the entries <prefix>/data/<key>;
- a legacy torch.save file (PyTorch < 1.6): five pickles (magic number,
  protocol version 1001, sys info, the object, the storage key list) followed
  by each storage as int64 element count + raw little-endian data.
Every pickle goes through the restricted unpickler (allowlist.py).
"""

import io
import math
import struct
import zipfile

import numpy as np

from .errors import IoError, ModelError
from .safe_pickle import load_pickle

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
LEGACY_FILE_PREFIX = b"\x80\x02\x8a\x0a" + LEGACY_MAGIC.to_bytes(10, "little")


class StorageType:
    """Stand-in for torch.FloatStorage & co: names the element type."""

    def __init__(self, name, dtype):
        self.name = name
        self.dtype = np.dtype(dtype)

    def __repr__(self):
        return f"torch.{self.name}"


class Storage:
    """A flat array of one element type; `array` may be filled in later
    (legacy streams store the data after the pickle that refers to it)."""

    def __init__(self, stype, numel, array=None):
        self.stype = stype
        self.numel = numel
        self.array = array

    def data(self):
        if self.array is None:
            raise ModelError("malformed torch data: a storage was never filled")
        return self.array


class TensorRef:
    """A tensor as (storage, offset, size, stride); materialised on demand so
    that shapes can be checked before any large copy is made."""

    def __init__(self, storage, offset, size, stride):
        self.storage = storage
        self.offset = offset
        self.shape = size
        self.stride = stride

    @property
    def dtype(self):
        return self.storage.stype.dtype

    def numpy(self):
        flat = self.storage.data()
        if any(n == 0 for n in self.shape):
            return np.zeros(self.shape, dtype=flat.dtype)
        count = math.prod(self.shape)
        if count > flat.size:  # checkpoints never store overlapping (expanded) tensors
            raise ModelError("malformed tensor: it has more elements than its storage")
        last = self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride))
        if self.offset < 0 or last >= flat.size:
            raise ModelError("malformed tensor: it reaches outside its storage")
        view = np.lib.stride_tricks.as_strided(
            flat[self.offset:], shape=self.shape,
            strides=[s * flat.itemsize for s in self.stride], writeable=False)
        return np.array(view)


def _int_tuple(v, what):
    if isinstance(v, list):
        v = tuple(v)
    if not isinstance(v, tuple) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                           for n in v):
        raise ModelError(f"malformed tensor ({what})")
    return v


def rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                      backward_hooks=None, metadata=None):
    """Stand-in for torch._utils._rebuild_tensor_v2."""
    if not isinstance(storage, Storage) or not isinstance(storage_offset, int):
        raise ModelError("malformed tensor (storage)")
    size, stride = _int_tuple(size, "size"), _int_tuple(stride, "stride")
    if len(size) != len(stride) or len(size) > 8:
        raise ModelError("malformed tensor (size/stride)")
    return TensorRef(storage, storage_offset, size, stride)


def rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    """Stand-in for torch._utils._rebuild_parameter: a parameter is its tensor."""
    if not isinstance(data, TensorRef):
        raise ModelError("malformed parameter (not a tensor)")
    return data


def _storage_ref(pid, what):
    """Checks a ('storage', type, key, location, numel[, view]) persistent id."""
    if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
        raise ModelError(f"malformed {what}: unexpected persistent id")
    stype, key, numel = pid[1], pid[2], pid[4]
    if not isinstance(stype, StorageType) or not isinstance(key, str) or not isinstance(numel, int) \
            or numel < 0:
        raise ModelError(f"malformed {what}: bad storage reference")
    return stype, key, numel


# ---------------------------------------------------------------- legacy streams

def read_legacy_stream(data, table, what):
    """Reads a legacy (non-zip) torch.save stream (bytes) and returns its object.
    Storages view `data` without copying it."""
    from .allowlist import NO_GLOBALS
    stream = io.BytesIO(data)
    magic = load_pickle(stream, NO_GLOBALS, what=what)
    if magic != LEGACY_MAGIC:
        raise ModelError(f"{what} is not a torch.save stream (bad magic number)")
    if load_pickle(stream, NO_GLOBALS, what=what) != LEGACY_PROTOCOL:
        raise ModelError(f"{what}: unsupported torch.save protocol version")
    sys_info = load_pickle(stream, NO_GLOBALS, what=what)
    if not isinstance(sys_info, dict) or sys_info.get("little_endian") is not True:
        raise ModelError(f"{what}: only little-endian torch.save data is supported")

    roots, views = {}, {}

    def persistent_load(pid):
        stype, key, numel = _storage_ref(pid, what)
        root = roots.setdefault(key, Storage(stype, numel))
        if root.stype is not stype or root.numel != numel:
            raise ModelError(f"malformed {what}: storage {key} declared twice")
        view = pid[5] if len(pid) > 5 else None
        if view is None:
            return root
        # Old PyTorch storage views: (view_key, offset, size) into the root.
        if not (isinstance(view, tuple) and len(view) == 3 and all(isinstance(v, int) for v in view[1:])):
            raise ModelError(f"malformed {what}: bad storage view")
        _, off, n = view
        if off < 0 or n < 0 or off + n > numel:
            raise ModelError(f"malformed {what}: storage view outside its storage")
        v = views.setdefault(view[0], _ViewStorage(root, off, n))
        return v

    result = load_pickle(stream, table, persistent_load, what)
    keys = load_pickle(stream, NO_GLOBALS, what=what)
    if not isinstance(keys, list) or sorted(keys) != sorted(roots):
        raise ModelError(f"malformed {what}: storage key list does not match the data")
    for key in keys:
        root = roots[key]
        head = stream.read(8)
        if len(head) != 8:
            raise ModelError(f"{what} is truncated (storage data missing)")
        (count,) = struct.unpack("<q", head)
        if count != root.numel:
            raise ModelError(f"malformed {what}: storage {key} has the wrong size")
        nbytes = count * root.stype.dtype.itemsize
        start = stream.tell()
        if start + nbytes > len(data):
            raise ModelError(f"{what} is truncated (storage data ends early)")
        root.array = np.frombuffer(data, dtype=root.stype.dtype, count=count, offset=start)
        stream.seek(start + nbytes)
    return result


class _ViewStorage(Storage):
    def __init__(self, root, offset, numel):
        super().__init__(root.stype, numel)
        self.root, self.offset = root, offset

    def data(self):
        return self.root.data()[self.offset:self.offset + self.numel]


def load_from_bytes(data):
    """Stand-in for torch.storage._load_from_bytes: parses the legacy stream
    with a table that only knows storage types, and returns the Storage."""
    from .allowlist import STORAGE_STREAM_GLOBALS
    if not isinstance(data, bytes):
        raise ModelError("malformed tensor storage (not bytes)")
    what = "embedded tensor storage"
    storage = read_legacy_stream(data, STORAGE_STREAM_GLOBALS, what)
    if not isinstance(storage, Storage):
        raise ModelError(f"malformed {what}: it does not hold a storage")
    return storage


def read_torch_legacy_file(data):
    from .allowlist import TORCH_SAVE_GLOBALS
    return read_legacy_stream(data, TORCH_SAVE_GLOBALS, "torch.save (legacy format) data")


# ---------------------------------------------------------------- zip files

def read_torch_zip(data):
    """Reads a torch.save zip file: data.pkl through the restricted unpickler,
    storages straight from the zip entries."""
    from .allowlist import TORCH_SAVE_GLOBALS
    what = "torch.save zip data"
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise ModelError(f"damaged or truncated zip file ({e})") from None
    pkls = [n for n in names if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(pkls) != 1:
        raise ModelError("zip file is not a torch.save checkpoint (no <name>/data.pkl)")
    prefix = pkls[0][:-len("data.pkl")]
    if prefix + "byteorder" in names and _zip_read(zf, prefix + "byteorder") != b"little":
        raise ModelError("only little-endian torch.save data is supported")
    storages = {}

    def persistent_load(pid):
        stype, key, numel = _storage_ref(pid, what)
        if key not in storages:
            raw = _zip_read(zf, f"{prefix}data/{key}")
            if len(raw) != numel * stype.dtype.itemsize:
                raise ModelError(f"malformed {what}: storage {key} has the wrong size")
            storages[key] = Storage(stype, numel, np.frombuffer(raw, dtype=stype.dtype))
        return storages[key]

    with io.BytesIO(_zip_read(zf, pkls[0])) as stream:
        return load_pickle(stream, TORCH_SAVE_GLOBALS, persistent_load, what)


def _zip_read(zf, name):
    try:
        return zf.read(name)
    except KeyError:
        raise ModelError(f"torch.save zip file lacks the entry {name}") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise ModelError(f"damaged or truncated zip entry {name} ({e})") from None
    except MemoryError:
        raise IoError(f"out of memory reading zip entry {name}") from None


# ---------------------------------------------------------------- values

def to_float32(value, name):
    """A checkpoint value (TensorRef, numpy array or scalar) as a float32
    C-contiguous numpy array. Exact for float16/bfloat16/float32 inputs."""
    from .safe_pickle import ArrayBuilder
    if isinstance(value, TensorRef):
        arr = value.numpy()
        if value.storage.stype.name == "BFloat16Storage":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
    elif isinstance(value, ArrayBuilder):
        if value.array is None:
            raise ModelError(f"{name}: malformed numpy array (no data)")
        arr = value.array
    elif isinstance(value, (np.ndarray, np.generic)):
        arr = np.asarray(value)
    else:
        raise ModelError(f"{name}: expected a tensor, found {type(value).__name__}")
    if arr.dtype.kind != "f":
        raise ModelError(f"{name}: expected floating-point data, found {arr.dtype}")
    return np.asarray(arr, dtype=np.float32, order="C")  # (ascontiguousarray would make 0-d 1-d)


def shape_of(value):
    """The shape of a checkpoint value without materialising it."""
    from .safe_pickle import ArrayBuilder
    if isinstance(value, TensorRef):
        return tuple(value.shape)
    if isinstance(value, ArrayBuilder) and value.array is not None:
        return tuple(value.array.shape)
    if isinstance(value, (np.ndarray, np.generic)):
        return tuple(np.shape(value))
    return None
