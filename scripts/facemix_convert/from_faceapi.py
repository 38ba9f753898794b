"""Face-recognition weights in face-api's tfjs layout -> facemix identity model.

@vladmandic/face-api ships dlib's face recognition ResNet v1 as a tfjs weights
manifest (JSON: a list of groups, each with "paths" to binary shards and
"weights" entries {name, shape, dtype float32, optional quantization
{dtype uint8, scale, min}}) plus the shards holding the values in manifest
order. A quantised value is min + scale * byte; tfjs computes that in double
precision and stores float32, and so do we.

The facemix identity model stores the same network under the key names of
facemix's IdentityNet module (src/identity/): conv filters OIHW, the
fully-connected matrix [128, 256] (out, in), and records the input
normalisation face-api uses: (pixel - mean RGB) / 255.
"""

import collections
import json
import math
import os

import numpy as np

from .errors import IoError, ModelError

KIND = "face-api tfjs manifest"

MEAN_RGB = "122.782,117.001,104.298"
SOURCE_LICENCE = ("weights: dlib_face_recognition_resnet_model_v1 by Davis King, public domain; "
                  "tfjs packaging from @vladmandic/face-api (MIT)")

# Residual blocks in network order: (name, channels, first block of a new width?).
BLOCKS = [("conv32_1", 32, False), ("conv32_2", 32, False), ("conv32_3", 32, False),
          ("conv64_down", 64, True), ("conv64_1", 64, False), ("conv64_2", 64, False),
          ("conv64_3", 64, False),
          ("conv128_down", 128, True), ("conv128_1", 128, False), ("conv128_2", 128, False),
          ("conv256_down", 256, True), ("conv256_1", 256, False), ("conv256_2", 256, False),
          ("conv256_down_out", 256, True)]


def expected_layers():
    """face-api name -> tfjs shape, in network order (the architecture's one definition here)."""
    shapes = collections.OrderedDict()

    def conv_layer(prefix, k, cin, cout):
        shapes[f"{prefix}/conv/filters"] = [k, k, cin, cout]
        shapes[f"{prefix}/conv/bias"] = [cout]
        shapes[f"{prefix}/scale/weights"] = [cout]
        shapes[f"{prefix}/scale/biases"] = [cout]

    conv_layer("conv32_down", 7, 3, 32)
    cin = 32
    for name, c, _ in BLOCKS:
        conv_layer(f"{name}/conv1", 3, cin, c)
        conv_layer(f"{name}/conv2", 3, c, c)
        cin = c
    shapes["fc"] = [256, 128]
    return shapes


def facemix_key(faceapi_name):
    """The facemix IdentityNet key for a face-api weight name (pure name mapping)."""
    parts = faceapi_name.split("/")
    leaf = {"filters": "weight", "bias": "bias", "weights": "weight", "biases": "bias"}
    if parts == ["fc"]:
        return "fc.weight"
    if len(parts) < 3 or parts[-1] not in leaf:
        raise ModelError(f"unexpected weight name {faceapi_name}")
    return ".".join(parts[:-1] + [leaf[parts[-1]]])


def to_facemix_layout(faceapi_name, values):
    """tfjs layout -> torch layout: HWIO filters -> OIHW, fc [in, out] -> [out, in]."""
    if faceapi_name.endswith("/filters"):
        return np.ascontiguousarray(values.transpose(3, 2, 0, 1))
    if faceapi_name == "fc":
        return np.ascontiguousarray(values.T)
    return values


class ConvertedIdentityModel:
    network = "face recognition ResNet v1"

    def __init__(self, tensors, source):
        self.tensors = tensors
        self.source = source
        self.warnings = []

    def metadata(self):
        return collections.OrderedDict([
            ("format", "facemix-identity"), ("version", "1"),
            ("architecture", "dlib-face-recognition-resnet-v1"),
            ("input_mean_rgb", MEAN_RGB), ("input_scale", "255"),
            ("source", self.source), ("licence", SOURCE_LICENCE)])


def is_manifest(data):
    """True when `data` looks like a tfjs weights manifest (a JSON list of groups)."""
    head = data[:64].lstrip()
    return head.startswith(b"[") and b"{" in data[:4096]


def _dequantize(raw, entry, count):
    q = entry.get("quantization")
    if q is None:
        if entry.get("dtype", "float32") != "float32":
            raise ModelError(f"{entry['name']}: unsupported dtype {entry.get('dtype')}")
        return np.frombuffer(raw, dtype="<f4").astype(np.float32), 4 * count
    if q.get("dtype") != "uint8":
        raise ModelError(f"{entry['name']}: unsupported quantisation {q.get('dtype')}")
    scale, low = float(q["scale"]), float(q["min"])
    if not (math.isfinite(scale) and math.isfinite(low)):
        raise ModelError(f"{entry['name']}: quantisation scale/min not finite")
    values = np.frombuffer(raw, dtype=np.uint8).astype(np.float64) * scale + low
    return values.astype(np.float32), count


def convert(manifest_path, data):
    """Reads the manifest (`data`, its bytes) and its shards -> ConvertedIdentityModel.

    throws: ModelError when the manifest is not JSON of the expected form, names
            other weights or shapes than the network has, or disagrees with the
            shard sizes; IoError when a shard cannot be read."""
    try:
        groups = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelError(f"not a tfjs weights manifest ({e})") from None
    if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
        raise ModelError("not a tfjs weights manifest (expected a list of groups)")
    expected = expected_layers()
    base = os.path.dirname(os.path.abspath(manifest_path))
    found = collections.OrderedDict()
    for group in groups:
        paths, entries = group.get("paths"), group.get("weights")
        if not isinstance(paths, list) or not isinstance(entries, list):
            raise ModelError("manifest group without 'paths' and 'weights' lists")
        blob = b""
        for p in paths:
            shard = os.path.join(base, str(p))
            try:
                with open(shard, "rb") as f:
                    blob += f.read()
            except OSError as e:
                raise IoError(f"cannot read weights shard: {e.strerror or e}", shard) from None
        pos = 0
        for entry in entries:
            name, shape = entry.get("name"), entry.get("shape")
            if name not in expected:
                raise ModelError(f"manifest names {name!r}, which this network does not have")
            if name in found:
                raise ModelError(f"manifest names {name} twice")
            if shape != expected[name]:
                raise ModelError(f"{name}: shape {shape} in the manifest, the network needs "
                                 f"{expected[name]}")
            count = int(np.prod(shape, dtype=np.int64))
            nbytes = count * (1 if entry.get("quantization") else 4)
            if pos + nbytes > len(blob):
                raise ModelError(f"weights shard is too short for {name}: the manifest needs "
                                 f"at least {pos + nbytes} bytes, the shard has {len(blob)}")
            values, used = _dequantize(blob[pos:pos + nbytes], entry, count)
            pos += used
            values = values.reshape(shape)
            if not np.all(np.isfinite(values)):
                raise ModelError(f"{name}: non-finite weights")
            found[name] = values
        if pos != len(blob):
            raise ModelError(f"weights shard has {len(blob) - pos} bytes the manifest does not "
                             "describe (manifest and shard disagree)")
    missing = [n for n in expected if n not in found]
    if missing:
        raise ModelError(f"manifest lacks {len(missing)} weights, first {missing[0]}")
    tensors = collections.OrderedDict(
        (facemix_key(n), to_facemix_layout(n, found[n])) for n in expected)
    return ConvertedIdentityModel(tensors, os.path.basename(manifest_path))
