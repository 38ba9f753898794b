"""Minimal safetensors writer and strict reader, F32 only.

Layout: u64 little-endian header length N (a multiple of 8), N bytes of JSON
padded with spaces, then the tensors' raw little-endian float32 data in the
order the header lists them. data_offsets are relative to the data start.
"""

import collections
import json
import struct

import numpy as np

from .errors import ModelError


def header(tensors, metadata):
    """The length prefix + padded JSON header for `tensors` (name -> array)."""
    head = collections.OrderedDict([("__metadata__", collections.OrderedDict(metadata))])
    offset = 0
    for name, arr in tensors.items():
        nbytes = 4 * int(np.prod(arr.shape, dtype=np.int64))
        head[name] = collections.OrderedDict([
            ("dtype", "F32"), ("shape", [int(d) for d in arr.shape]),
            ("data_offsets", [offset, offset + nbytes])])
        offset += nbytes
    text = json.dumps(head, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text


def file_size(tensors, metadata):
    return len(header(tensors, metadata)) + sum(4 * int(np.prod(a.shape, dtype=np.int64))
                                                for a in tensors.values())


def write(fileobj, tensors, metadata):
    fileobj.write(header(tensors, metadata))
    for arr in tensors.values():
        fileobj.write(np.asarray(arr, dtype="<f4", order="C").tobytes())


def read(data):
    """Parses safetensors bytes -> (metadata dict, OrderedDict name -> array).

    throws ModelError for anything but a well-formed, gap-free F32 file."""
    if len(data) < 8:
        raise ModelError("not a safetensors file (too short)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8 or n > 100_000_000:
        raise ModelError("not a safetensors file (bad header length)")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"),
                            object_pairs_hook=collections.OrderedDict)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"safetensors header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise ModelError("safetensors header is not a JSON object")
    meta = header.pop("__metadata__", {})
    body = memoryview(data)[8 + n:]
    tensors, expect = collections.OrderedDict(), 0
    for name, info in header.items():
        try:
            dtype, shape, (a, b) = info["dtype"], info["shape"], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise ModelError(f"safetensors entry {name} is malformed") from None
        count = int(np.prod(shape, dtype=np.int64))
        if dtype != "F32" or a != expect or b - a != 4 * count or b > len(body):
            raise ModelError(f"safetensors entry {name} is malformed or out of order")
        tensors[name] = np.frombuffer(body[a:b], dtype="<f4").reshape(shape)
        expect = b
    if expect != len(body):
        raise ModelError("safetensors file has trailing bytes")
    return meta, tensors
