"""A restricted unpickler and the plain-data records it builds.

Python's pickle can call any importable callable while loading (REDUCE,
NEWOBJ, BUILD on a found class). RestrictedUnpickler resolves every global
through a caller-supplied table {(module, name): harmless stand-in}; any other
global raises RefusedGlobal *before* anything is called, naming the global.
The stand-ins below only build data: dicts, numpy arrays, small records, and
only the records that expect it accept BUILD (state setting).

The tables themselves live in allowlist.py, one per context.
"""

import _compat_pickle
import collections
import io
import math
import pickle
import struct

import numpy as np

from .errors import ModelError, RefusedGlobal


class RestrictedUnpickler(pickle._Unpickler):
    """The pure-Python unpickler (pickle._Unpickler; its opcode table can be
    amended, the C one's cannot), with globals resolved through `table` and
    BUILD (set an object's state) allowed only on the records below that
    expect it, so a pickle cannot set attributes of the stand-in classes or
    functions themselves."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def _load_build(self):
        if len(self.stack) < 2:
            raise ModelError(f"malformed {self._what}: BUILD without an object")
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, _STATEFUL):
            inst.__setstate__(state)
        elif isinstance(inst, (OrderedDictRecord, EasyDictRecord)) and _is_attr_dict(state):
            inst.__dict__.update(state)  # e.g. a state dict's `_metadata`
        else:
            raise ModelError(f"malformed {self._what}: it sets the state of a {type(inst).__name__}")

    dispatch[pickle.BUILD[0]] = _load_build

    def __init__(self, stream, table, persistent_load=None, what="pickle"):
        # latin1: Python 2 pickles carry raw bytes (numpy data) as str.
        super().__init__(stream, encoding="latin1")
        self._table = table
        self._persistent = persistent_load
        self._what = what

    def find_class(self, module, name):
        written = f"{module}.{name}"
        # Protocol 0-2 pickles written by Python 3 use Python 2 names
        # (__builtin__.set); map them back as the stdlib unpickler does.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        stand_in = self._table.get((module, name))
        if stand_in is None:
            alias = f" (written as '{written}')" if written != f"{module}.{name}" else ""
            raise RefusedGlobal(
                f"refusing to load {self._what}: it references the global '{module}.{name}'{alias}, "
                "which is not part of a StyleGAN2 checkpoint (nothing was executed)")
        return stand_in

    def persistent_load(self, pid):
        if self._persistent is None:
            raise ModelError(f"malformed {self._what}: unexpected persistent id {pid!r:.80}")
        return self._persistent(pid)


def load_pickle(stream, table, persistent_load=None, what="pickle"):
    """Loads one pickle from a binary stream with the given globals table.

    throws: RefusedGlobal for a global outside `table`; ModelError when the
    data is truncated or malformed (never a raw pickle/struct exception).
    """
    tracked = _EofTracker(stream)
    try:
        return RestrictedUnpickler(tracked, table, persistent_load, what).load()
    except ModelError:
        raise
    except (EOFError, pickle.UnpicklingError, struct.error, ValueError, TypeError, KeyError,
            IndexError, AttributeError, UnicodeDecodeError, OverflowError, MemoryError,
            RecursionError) as e:
        if tracked.hit_eof or isinstance(e, EOFError):
            raise ModelError(f"{what} is truncated (the data ends early)") from None
        raise ModelError(f"malformed {what}: {type(e).__name__}: {e}") from None


class _EofTracker:
    """Passes reads through to a stream and notes whether one came back short,
    so that any failure after that is reported as truncation."""

    def __init__(self, stream):
        self._s = stream
        self.hit_eof = False

    def read(self, n=-1):
        data = self._s.read(n)
        if n is not None and n >= 0 and len(data) < n:
            self.hit_eof = True
        return data

    def readinto(self, buf):
        n = self._s.readinto(buf)
        if n < len(buf):
            self.hit_eof = True
        return n

    def readline(self):
        line = self._s.readline()
        if not line.endswith(b"\n"):
            self.hit_eof = True
        return line


def load_pickle_bytes(data, table, persistent_load=None, what="pickle"):
    return load_pickle(io.BytesIO(data), table, persistent_load, what)


# ---------------------------------------------------------------- records

class OrderedDictRecord(collections.OrderedDict):
    """Stand-in for collections.OrderedDict (state dicts, module member dicts).
    A subclass so that BUILD may attach attributes such as `_metadata`."""


class EasyDictRecord(dict):
    """Stand-in for dnnlib.util.EasyDict: a dict, nothing more."""


class NamespaceRecord:
    """Stand-in for argparse.Namespace (rosinality train.py's `args`)."""

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise ModelError("malformed argparse.Namespace state")
        self.fields = dict(state)


class TFNetwork:
    """Stand-in for dnnlib.tflib.network.Network: keeps its state dict."""

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise ModelError("malformed TensorFlow Network state (not a dict)")
        self.state = state


class PersistentObject:
    """What torch_utils.persistence._reconstruct_persistent_obj rebuilds: a
    module of NVIDIA's persistent classes, kept as its class name and __dict__.
    The module source in the pickle is never looked at beyond its length."""

    def __init__(self, meta):
        if not isinstance(meta, dict) or meta.get("type") != "class":
            raise ModelError("malformed persistent object (meta is not a class record)")
        self.class_name = meta.get("class_name")
        self.state = meta.get("state")
        if not isinstance(self.class_name, str) or not isinstance(self.state, dict):
            raise ModelError("malformed persistent object (class_name/state missing)")


def reconstruct_persistent_obj(meta):
    return PersistentObject(meta)


def _is_attr_dict(state):
    return isinstance(state, dict) and all(isinstance(k, str) for k in state)


def make_set(items=()):
    return set(items)


def codecs_encode(obj, encoding="utf-8"):
    """Stand-in for _codecs.encode, which protocol-2 pickles use for bytes."""
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1"):
        raise ModelError("malformed pickle: unexpected _codecs.encode call")
    return obj.encode("latin-1")


# ---------------------------------------------------------------- numpy

# numpy dtype codes accepted (plain numbers only: no objects, no records).
_NUMERIC_DTYPES = {"f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"}


class DTypeSpec:
    """Stand-in for numpy.dtype(code, align, copy) + BUILD(state)."""

    def __init__(self, code, align=False, copy=True):
        if isinstance(code, bytes):
            code = code.decode("latin-1")
        if code not in _NUMERIC_DTYPES:
            raise ModelError(f"unsupported numpy dtype {code!r:.40} in pickle")
        self.code = code
        self.order = "<" if code not in ("i1", "u1", "b1") else "|"

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) < 8 or state[1] not in ("<", ">", "|", "="):
            raise ModelError("malformed numpy dtype state")
        if state[2] is not None or state[3] is not None or state[4] is not None:
            raise ModelError("structured numpy dtypes are not supported")
        self.order = state[1]

    def numpy(self):
        return np.dtype(self.code).newbyteorder(self.order)


def numpy_scalar(dtype, data=None):
    """Stand-in for numpy.core.multiarray.scalar(dtype, raw bytes)."""
    if not isinstance(dtype, DTypeSpec):
        raise ModelError("malformed numpy scalar (dtype is not a numpy dtype)")
    if isinstance(data, str):
        data = data.encode("latin-1")
    dt = dtype.numpy()
    if not isinstance(data, bytes) or len(data) != dt.itemsize:
        raise ModelError("malformed numpy scalar (wrong byte count)")
    return np.frombuffer(data, dtype=dt)[0].astype(dt.newbyteorder("="))


class _NDArrayType:
    """Stand-in for the class numpy.ndarray: only a marker for _reconstruct."""


NDARRAY_TYPE = _NDArrayType()


class ArrayBuilder:
    """Stand-in for numpy.core.multiarray._reconstruct(ndarray, (0,), b'b')
    followed by BUILD((version, shape, dtype, is_fortran, raw bytes))."""

    def __init__(self, subtype, shape=(0,), code=b"b"):
        if subtype is not NDARRAY_TYPE:
            raise ModelError("malformed numpy array (not a plain ndarray)")
        self.array = None

    def __setstate__(self, state):
        if isinstance(state, tuple) and len(state) == 5:
            state = state[1:]
        if not isinstance(state, tuple) or len(state) != 4:
            raise ModelError("malformed numpy array state")
        shape, dtype, fortran, raw = state
        if not isinstance(dtype, DTypeSpec):
            raise ModelError("malformed numpy array (dtype)")
        if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise ModelError("malformed numpy array (shape)")
        if isinstance(raw, str):
            raw = raw.encode("latin-1")
        dt = dtype.numpy()
        count = math.prod(shape)
        if not isinstance(raw, bytes) or len(raw) != count * dt.itemsize:
            raise ModelError("malformed numpy array (data size does not match its shape)")
        flat = np.frombuffer(raw, dtype=dt).astype(dt.newbyteorder("="))
        self.array = flat.reshape(shape, order="F" if fortran else "C")


# Records whose state a pickle may set with BUILD (each checks what it gets).
_STATEFUL = (NamespaceRecord, TFNetwork, DTypeSpec, ArrayBuilder)
