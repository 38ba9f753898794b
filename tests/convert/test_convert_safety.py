#!/usr/bin/python3
"""The converter never runs code from its input and refuses damaged files.

Each malicious pickle would create a marker file when loaded by plain
pickle.loads (checked by a positive control in a separate process); the
converter must refuse it, name the global, exit 5, write no output, and the
marker must never appear. Truncated files must be refused with exit 5.
"""

import collections
import io
import os
import pickle
import shlex
import subprocess
import sys
import unittest
import zipfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_support import PYTHON, REPO, ScratchTestCase, golden, run_convert, torch_or_skip  # noqa: E402

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class _OsSystem:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {shlex.quote(self.marker)}",))


class _Popen(_OsSystem):
    def __reduce__(self):
        return (subprocess.Popen, (["touch", self.marker],))


class _Eval(_OsSystem):
    def __reduce__(self):
        return (eval, (f"open({self.marker!r}, 'w').close()",))


# payload class -> the global name the refusal must mention
PAYLOADS = {_OsSystem: f"{os.system.__module__}.system", _Popen: "subprocess.Popen",
            _Eval: "builtins.eval"}


def legacy_stream(obj_pickle):
    """A legacy torch.save stream whose object pickle is `obj_pickle`."""
    sys_info = {"protocol_version": 1001, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    return (pickle.dumps(LEGACY_MAGIC, protocol=2) + pickle.dumps(1001, protocol=2)
            + pickle.dumps(sys_info, protocol=2) + obj_pickle + pickle.dumps([], protocol=2))


def torch_zip(data_pkl):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("archive/data.pkl", data_pkl)
        z.writestr("archive/version", b"3\n")
    return buf.getvalue()


class MaliciousPickles(ScratchTestCase):
    def setUp(self):
        super().setUp()
        self.marker = self.tmp / "PWNED"
        self.out_dir = self.tmp / "out"
        self.out_dir.mkdir()

    def refuse(self, name, data, global_name):
        src = self.tmp / name
        src.write_bytes(data)
        r = run_convert(src, "-o", self.out_dir / "model.safetensors")
        self.assert_one_line_error(r, 5, str(src), f"'{global_name}'")
        r = run_convert(src, "--info")
        self.assert_one_line_error(r, 5, f"'{global_name}'")
        self.assertFalse(self.marker.exists(), f"{name}: the payload ran")
        self.assertEqual(list(self.out_dir.iterdir()), [], f"{name}: output or temp file left")

    def test_positive_control_payloads_do_run_under_plain_pickle(self):
        for cls in PAYLOADS:
            with self.subTest(cls.__name__):
                marker = self.tmp / f"control-{cls.__name__}"
                path = self.tmp / f"control-{cls.__name__}.pkl"
                path.write_bytes(pickle.dumps(cls(marker), protocol=4))
                code = ("import pickle,sys; r = pickle.loads(open(sys.argv[1], 'rb').read()); "
                        "getattr(r, 'wait', lambda: 0)()")
                subprocess.run([PYTHON, "-c", code, str(path)], check=True, timeout=60)
                self.assertTrue(marker.exists(), "the crafted pickle is not a live payload")

    def test_top_level_payloads(self):
        for cls, global_name in PAYLOADS.items():
            for proto in (2, 4):
                with self.subTest(f"{cls.__name__} protocol {proto}"):
                    self.refuse(f"{cls.__name__}{proto}.pkl", pickle.dumps(cls(self.marker), protocol=proto),
                                global_name)

    def test_payload_inside_a_network_pickle_structure(self):
        for cls, global_name in PAYLOADS.items():
            with self.subTest(cls.__name__):
                top = {"training_set_kwargs": collections.OrderedDict(a=1), "G": None,
                       "G_ema": [set([1, 2]), cls(self.marker)]}
                self.refuse(f"nested-{cls.__name__}.pkl", pickle.dumps(top, protocol=3), global_name)

    def test_payload_inside_an_embedded_storage_stream(self):
        torch = torch_or_skip()

        class Storage:
            def __init__(self, blob):
                self.blob = blob

            def __reduce__(self):
                return (torch.storage._load_from_bytes, (self.blob,))

        for cls, global_name in PAYLOADS.items():
            with self.subTest(cls.__name__):
                blob = legacy_stream(pickle.dumps(cls(self.marker), protocol=2))
                outer = pickle.dumps({"G_ema": Storage(blob)}, protocol=4)
                self.assertIn(b"_load_from_bytes", outer)
                self.refuse(f"storage-{cls.__name__}.pkl", outer, global_name)

    def test_payload_inside_torch_save_files(self):
        for cls, global_name in PAYLOADS.items():
            with self.subTest(cls.__name__):
                body = pickle.dumps({"g_ema": cls(self.marker)}, protocol=2)
                self.refuse(f"zip-{cls.__name__}.pt", torch_zip(body), global_name)
                self.refuse(f"legacy-{cls.__name__}.pt", legacy_stream(body), global_name)

    def test_numpy_object_arrays_are_refused(self):
        data = pickle.dumps({"G_ema": np.array([1, None], dtype=object)}, protocol=3)
        src = self.tmp / "objarray.pkl"
        src.write_bytes(data)
        self.assert_one_line_error(run_convert(src, "-o", self.out_dir / "m.safetensors"), 5,
                                   "unsupported numpy dtype")


class DamagedFiles(ScratchTestCase):
    def check_refused(self, data, name, *fragments):
        src = self.tmp / name
        src.write_bytes(data)
        out = self.tmp / "model.safetensors"
        line = self.assert_one_line_error(run_convert(src, "-o", out), 5, *fragments)
        self.assertFalse(out.exists())
        self.assertEqual(sorted(p.name for p in self.tmp.iterdir()), [name], "temp file left behind")
        return line

    def test_truncated_network_pickles(self):
        for fixture in ("tiny_nvlabs_network.pkl", "tiny_tf_network.pkl", "tiny_tf_network.proto4.pkl"):
            data = golden(fixture).read_bytes()
            for cut in (40, 5000, len(data) // 2, len(data) - 1):
                with self.subTest(f"{fixture}[:{cut}]"):
                    self.check_refused(data[:cut], "cut.pkl", "truncated")

    def test_truncated_torch_zip(self):
        data = golden("tiny_rosinality.pt").read_bytes()
        for cut in (100, len(data) // 2, len(data) - 10):
            with self.subTest(cut):
                self.check_refused(data[:cut], "cut.pt", "truncated")

    def test_truncated_legacy_torch_save(self):
        torch = torch_or_skip()
        buf = io.BytesIO()
        torch.save({"g_ema": collections.OrderedDict(w=torch.ones(1000))}, buf,
                   _use_new_zipfile_serialization=False)
        data = buf.getvalue()
        for cut in (30, len(data) - 2000, len(data) - 1):
            with self.subTest(cut):
                self.check_refused(data[:cut], "cut.pt", "truncated")

    def test_garbage_after_a_pickle_header(self):
        rng = np.random.default_rng(7)
        self.check_refused(b"\x80\x04" + rng.bytes(4000), "noise.pkl", "malformed")

    def test_not_a_checkpoint(self):
        self.check_refused(b"\x89PNG\r\n\x1a\n" + bytes(100), "face.png", "not a recognised checkpoint")

    def test_a_tensor_that_reaches_outside_its_storage(self):
        torch = torch_or_skip()
        sys.path.insert(0, str(REPO / "scripts"))
        from facemix_convert import allowlist, errors, safe_pickle

        class Tensor:
            def __init__(self, offset, size):
                self.offset, self.size = offset, size

            def __reduce__(self):
                return (torch._utils._rebuild_tensor_v2,
                        (torch.zeros(4).storage(), self.offset, self.size, (1,), False,
                         collections.OrderedDict()))

        ok = safe_pickle.load_pickle_bytes(pickle.dumps(Tensor(1, (3,))), allowlist.NETWORK_PICKLE_GLOBALS)
        self.assertEqual(ok.numpy().tolist(), [0.0, 0.0, 0.0])  # the same route works in bounds
        for offset, size in ((0, (5,)), (3, (2,)), (9, (1,))):
            with self.subTest(offset=offset, size=size):
                ref = safe_pickle.load_pickle_bytes(pickle.dumps(Tensor(offset, size)),
                                                    allowlist.NETWORK_PICKLE_GLOBALS)
                with self.assertRaises(errors.ModelError):
                    ref.numpy()


class AllowList(unittest.TestCase):
    def test_the_golden_pickles_need_exactly_listed_globals(self):
        """Every global of the NVIDIA fixture is allowed (documented list), and the
        allow-list holds nothing beyond the documented extras."""
        sys.path.insert(0, str(REPO / "scripts"))
        from facemix_convert import allowlist
        text = golden("tiny_nvlabs_network.globals.txt").read_text()
        names = {line.split("\t")[0] for line in text.splitlines() if line and not line.startswith("#")}
        allowed = {f"{m}.{n}" for m, n in {**allowlist.NETWORK_PICKLE_GLOBALS,
                                           **allowlist.STORAGE_STREAM_GLOBALS}}
        self.assertLessEqual(names, allowed)
        extras = allowed - names
        documented = {"torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
                      "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage",
                      "torch.CharStorage", "torch.ByteStorage", "torch.BoolStorage",
                      "_codecs.encode", "numpy.core.multiarray._reconstruct", "numpy.ndarray",
                      "numpy._core.multiarray.scalar", "numpy._core.multiarray._reconstruct",
                      "dnnlib.tflib.network.Network"}
        self.assertLessEqual(extras, documented, "undocumented globals in the allow-list")
        for forbidden in ("builtins.eval", "builtins.exec", "os.system", "posix.system",
                          "subprocess.Popen", "builtins.getattr", "builtins.__import__",
                          "torch.load", "numpy.load", "pickle.loads"):
            self.assertNotIn(forbidden, allowed)


if __name__ == "__main__":
    unittest.main()
