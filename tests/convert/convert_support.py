"""Shared helpers for the converter tests (scripts/convert_weights.py).

Environment (set by tests/convert/CMakeLists.txt; all optional when the
tests are run by hand with /usr/bin/python3):
  FACEMIX_SHARED      fixtures folder (faces/, golden/); overrides the next one
  FACEMIX_SHARED_DIR  the CMake cache value FACEMIX_SHARED_DIR
  FACEMIX_BINARY      the facemix CLI, for the reproduction tests
A missing fixture makes its test skip with a message, never pass.
"""

import collections
import json
import os
import struct
import subprocess
import tempfile
import unittest
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "convert_weights.py"
PYTHON = "/usr/bin/python3"


def shared_dir():
    for var in ("FACEMIX_SHARED", "FACEMIX_SHARED_DIR"):
        if os.environ.get(var):
            return Path(os.environ[var])
    return REPO.parent / "shared"


def golden(name):
    """Path of a golden fixture; skips the calling test when it is missing."""
    path = shared_dir() / "golden" / name
    if not path.is_file():
        raise unittest.SkipTest(f"fixture {path} is missing")
    return path


def facemix_binary():
    path = os.environ.get("FACEMIX_BINARY")
    if not path:
        raise unittest.SkipTest("FACEMIX_BINARY is not set (run through ctest to use facemix)")
    if not os.path.isfile(path):
        raise unittest.SkipTest(f"facemix binary {path} is not built")
    return path


def run_convert(*args, cwd=None):
    """Runs the converter as a user would: /usr/bin/python3 scripts/convert_weights.py ..."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([PYTHON, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)


class ScratchTestCase(unittest.TestCase):
    """A test case with a fresh temporary directory self.tmp."""

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="facemix-convert-test-")
        self.tmp = Path(self._tmp.name)

    def tearDown(self):
        self._tmp.cleanup()

    def assert_one_line_error(self, result, code, *fragments):
        """The converter failed with `code` and one `convert_weights.py: error:` line."""
        self.assertEqual(result.returncode, code, f"stdout={result.stdout!r} stderr={result.stderr!r}")
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"expected one error line, got {result.stderr!r}")
        self.assertTrue(lines[0].startswith("convert_weights.py: error: "), lines[0])
        for f in fragments:
            self.assertIn(f, lines[0])
        return lines[0]


def read_safetensors(path):
    """An independent strict safetensors reader (F32 only), for checking the
    converter's output without trusting its own reader."""
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0, "header length is not a multiple of 8"
    header = json.loads(data[8:8 + n], object_pairs_hook=collections.OrderedDict)
    meta = header.pop("__metadata__")
    base, pos, out = 8 + n, 0, collections.OrderedDict()
    for name, info in header.items():
        start, end = info["data_offsets"]
        assert info["dtype"] == "F32" and start == pos, f"{name}: bad entry"
        count = int(np.prod(info["shape"], dtype=np.int64))
        assert end - start == 4 * count, f"{name}: size does not match shape"
        out[name] = np.frombuffer(data[base + start:base + end], dtype="<f4").reshape(info["shape"])
        pos = end
    assert base + pos == len(data), "trailing bytes"
    return meta, out


def torch_or_skip():
    try:
        import torch
    except ImportError:
        raise unittest.SkipTest("python3-torch is not installed (apt-get install python3-torch); "
                                "needed to write test checkpoints") from None
    return torch
