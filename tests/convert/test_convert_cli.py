#!/usr/bin/python3
"""Command-line contract of scripts/convert_weights.py: exit codes, one-line
errors, overwrite rules and atomic output (facemix's rules for outputs)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_support import SCRIPT, ScratchTestCase, golden, run_convert  # noqa: E402


class OutputRules(ScratchTestCase):
    def test_existing_output_needs_y(self):
        src, out = golden("tiny_rosinality.pt"), self.tmp / "m.safetensors"
        out.write_bytes(b"keep me")
        self.assert_one_line_error(run_convert(src, "-o", out), 4, str(out), "-y")
        self.assertEqual(out.read_bytes(), b"keep me")
        r = run_convert(src, "-o", out, "-y")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(out.read_bytes(), golden("tiny.safetensors").read_bytes())
        self.assertEqual(sorted(p.name for p in self.tmp.iterdir()), ["m.safetensors"])

    def test_output_mode_follows_the_umask(self):
        src = golden("tiny_rosinality.pt")
        for umask, mode in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
            with self.subTest(umask=oct(umask)):
                out = self.tmp / f"m{umask:o}.safetensors"
                old = os.umask(umask)  # inherited by the converter process
                try:
                    r = run_convert(src, "-o", out)
                finally:
                    os.umask(old)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(out.stat().st_mode & 0o7777, mode)

    def test_never_overwrites_the_input(self):
        src = self.tmp / "in.pt"
        data = golden("tiny_rosinality.pt").read_bytes()
        src.write_bytes(data)
        (self.tmp / "link.safetensors").symlink_to(src)
        for out in (src, self.tmp / "link.safetensors", self.tmp / "." / "in.pt"):
            with self.subTest(str(out)):
                self.assert_one_line_error(run_convert(src, "-o", out, "-y"), 4, "input")
                self.assertEqual(src.read_bytes(), data)

    def test_io_problems_exit_4(self):
        src = golden("tiny_rosinality.pt")
        self.assert_one_line_error(run_convert(self.tmp / "missing.pt", "-o", self.tmp / "m"), 4,
                                   "missing.pt", "no such file")
        self.assert_one_line_error(run_convert(self.tmp, "-o", self.tmp / "m"), 4, "directory")
        self.assert_one_line_error(run_convert(src, "-o", self.tmp / "no" / "m.safetensors"), 4,
                                   "does not exist")
        self.assert_one_line_error(run_convert(src, "-o", self.tmp), 4)
        self.assertEqual(list(self.tmp.iterdir()), [])

    def test_model_problems_exit_5_and_leave_nothing(self):
        out = self.tmp / "m.safetensors"
        self.assert_one_line_error(run_convert(golden("tiny.safetensors"), "-o", out), 5, "safetensors")
        empty = self.tmp / "empty.pkl"
        empty.write_bytes(b"")
        self.assert_one_line_error(run_convert(empty, "-o", out), 5, "too short")
        self.assert_one_line_error(run_convert(golden("tiny_rosinality.pt"), "-o", out, "--network", "G"),
                                   5, "no rosinality generator 'g'")
        self.assertEqual(sorted(p.name for p in self.tmp.iterdir()), ["empty.pkl"])


class Usage(ScratchTestCase):
    def test_usage_errors_exit_2(self):
        src = golden("tiny_rosinality.pt")
        for args in ([], [src], [src, "-o", self.tmp / "m", "--network", "D"],
                     [src, "--info", "-o", self.tmp / "m"], [src, "-o", self.tmp / "m", "--bogus"]):
            with self.subTest(args=args):
                self.assert_one_line_error(run_convert(*args), 2)
        self.assertEqual(list(self.tmp.iterdir()), [])

    def test_help(self):
        r = run_convert("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--network", r.stdout)
        self.assertIn("--info", r.stdout)

    def test_runs_with_debian_python(self):
        self.assertEqual(SCRIPT.read_text().splitlines()[0], "#!/usr/bin/python3")
        self.assertTrue(os.access(SCRIPT, os.X_OK), "scripts/convert_weights.py is not executable")


if __name__ == "__main__":
    unittest.main()
