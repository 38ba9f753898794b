"""face-api's face recognition weights -> facemix identity model (scripts/convert_weights.py).

The converted model must give facemix exactly the descriptors of the manifest it
came from (checked through `facemix score` on real photos), and damaged inputs
must be refused with exit 5 and no output.
"""

import json
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert_support import ScratchTestCase, facemix_binary, golden, run_convert, shared_dir  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from facemix_convert import from_faceapi, safetensors_file  # noqa: E402

MANIFEST = "identity/weights/face_recognition_model-weights_manifest.json"


class IdentityConversion(ScratchTestCase):
    def weights_copy(self, name, shard_edit=None, manifest_edit=None):
        """A copy of the golden manifest + shard in self.tmp/name, optionally edited."""
        src = golden(MANIFEST)
        d = Path(self.tmp) / name
        d.mkdir()
        shard = (src.parent / "face_recognition_model.bin").read_bytes()
        text = src.read_text()
        (d / "face_recognition_model.bin").write_bytes(shard_edit(shard) if shard_edit else shard)
        (d / "manifest.json").write_text(manifest_edit(text) if manifest_edit else text)
        return d / "manifest.json"

    def test_converts_with_metadata_and_torch_layout(self):
        out = Path(self.tmp) / "identity.safetensors"
        r = run_convert(golden(MANIFEST), "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        meta, tensors = safetensors_file.read(out.read_bytes())
        self.assertEqual(meta["format"], "facemix-identity")
        self.assertEqual(meta["version"], "1")
        self.assertEqual(meta["input_scale"], "255")
        self.assertIn("public domain", meta["licence"])
        self.assertEqual(len(tensors), 117)
        self.assertEqual(list(tensors["conv32_down.conv.weight"].shape), [32, 3, 7, 7])
        self.assertEqual(list(tensors["fc.weight"].shape), [128, 256])

    def test_facemix_scores_identically_with_the_converted_model(self):
        binary = facemix_binary()
        out = Path(self.tmp) / "identity.safetensors"
        self.assertEqual(run_convert(golden(MANIFEST), "-o", out).returncode, 0)
        faces = shared_dir() / "faces"
        photos = [str(faces / "congress_C001080.jpg"), str(faces / "congress_K000389_flag.jpg"),
                  str(faces / "derived_alpha_cutout_S001223.png")]

        def score(model):
            r = subprocess.run([binary, "score", "--json", "--identity-model", str(model), *photos],
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr)
            return [i["distance"] for i in json.loads(r.stdout)["images"]]

        self.assertEqual(score(out), score(golden(MANIFEST)))

    def test_damaged_inputs_exit_5_and_write_nothing(self):
        cases = {
            "truncated": dict(shard_edit=lambda b: b[:-1000]),
            "longer": dict(shard_edit=lambda b: b + b"\0" * 8),
            "shape": dict(manifest_edit=lambda t: t.replace('"name":"fc","shape":[256,128]',
                                                            '"name":"fc","shape":[128,256]')),
            "name": dict(manifest_edit=lambda t: t.replace("conv32_1/conv1/conv/filters",
                                                           "conv32_7/conv1/conv/filters")),
            "json": dict(manifest_edit=lambda t: t[: len(t) // 2]),
        }
        expected = {"truncated": "too short", "longer": "disagree", "shape": "shape",
                    "name": "conv32_7", "json": "not a tfjs"}
        for name, edits in cases.items():
            with self.subTest(name):
                manifest = self.weights_copy(name, **edits)
                out = Path(self.tmp) / f"{name}.safetensors"
                r = run_convert(manifest, "-o", out)
                self.assertEqual(r.returncode, 5, r.stderr)
                self.assertIn(expected[name], r.stderr)
                self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
                self.assertFalse(out.exists())

    def test_missing_shard_exit_4(self):
        manifest = self.weights_copy("noshard")
        (manifest.parent / "face_recognition_model.bin").unlink()
        r = run_convert(manifest, "-o", Path(self.tmp) / "x.safetensors")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn("face_recognition_model.bin", r.stderr)

    def test_info(self):
        r = run_convert(golden(MANIFEST), "--info")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("tensors: 117", r.stdout)

    def test_name_mapping_is_pure(self):
        self.assertEqual(from_faceapi.facemix_key("conv64_down/conv2/scale/biases"),
                         "conv64_down.conv2.scale.bias")
        self.assertEqual(from_faceapi.facemix_key("fc"), "fc.weight")


if __name__ == "__main__":
    unittest.main()
