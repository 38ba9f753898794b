#!/usr/bin/python3
"""scripts/convert_weights.py on the golden checkpoints of *tiny*.

Every supported format of the same weights must give tiny.safetensors:
NVIDIA pickles and rosinality/TF files are all expected bit for bit (the
conversions are exact: transposes, flips, reshapes and a float32 "+1" that is
exact for biases in [0.5, 2]). The files are compared byte for byte and
tensor by tensor (for a readable failure).
"""

import argparse
import collections
import json
import math
import os
import pickle
import subprocess
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_support import (ScratchTestCase, facemix_binary, golden, read_safetensors,  # noqa: E402
                             run_convert, torch_or_skip)


class GoldenConversion(ScratchTestCase):
    def convert(self, fixture, *extra):
        out = self.tmp / (fixture + ".safetensors")
        r = run_convert(golden(fixture), "-o", out, *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "", "conversion must keep stdout clean")
        return out, r

    def assert_same_as_golden(self, out):
        meta, got = read_safetensors(out)
        gmeta, want = read_safetensors(golden("tiny.safetensors"))
        self.assertEqual(meta, gmeta)
        self.assertEqual(list(got), list(want), "keys or their order differ")
        for key in want:
            self.assertEqual(got[key].shape, want[key].shape, key)
            self.assertTrue(np.array_equal(got[key].view(np.uint32), want[key].view(np.uint32)),
                            f"{key} differs: max |diff| {np.abs(got[key] - want[key]).max()}")
        self.assertEqual(out.read_bytes(), golden("tiny.safetensors").read_bytes(),
                         "same tensors but different file bytes (header formatting?)")

    def test_nvlabs_pickle_protocol4_is_bit_identical(self):
        out, r = self.convert("tiny_nvlabs_network.pkl")
        self.assert_same_as_golden(out)
        self.assertIn("w_avg stored in the file", r.stderr)

    def test_nvlabs_pickle_protocol3_is_bit_identical(self):
        out, _ = self.convert("tiny_nvlabs_network.proto3.pkl")
        self.assert_same_as_golden(out)

    def test_nvlabs_training_snapshot_G(self):
        # G and G_ema hold the same values in the fixture; G must be found and converted too.
        out, r = self.convert("tiny_nvlabs_network.pkl", "--network", "G")
        self.assert_same_as_golden(out)
        self.assertIn(", G ->", r.stderr)

    def test_rosinality_checkpoint_is_bit_identical(self):
        out, _ = self.convert("tiny_rosinality.pt")
        self.assert_same_as_golden(out)

    def test_tensorflow_pickle_protocol3_is_bit_identical(self):
        out, _ = self.convert("tiny_tf_network.pkl")
        self.assert_same_as_golden(out)

    def test_tensorflow_pickle_protocol4_is_bit_identical(self):
        out, _ = self.convert("tiny_tf_network.proto4.pkl")
        self.assert_same_as_golden(out)

    def test_tensorflow_G_instead_of_Gs(self):
        out, r = self.convert("tiny_tf_network.pkl", "--network", "G")
        self.assert_same_as_golden(out)
        self.assertIn(", G ->", r.stderr)

    def test_info_describes_each_format_without_writing(self):
        cases = {"tiny_nvlabs_network.pkl": "NVIDIA PyTorch", "tiny_tf_network.pkl": "TensorFlow",
                 "tiny_rosinality.pt": "rosinality"}
        for fixture, fmt in cases.items():
            with self.subTest(fixture):
                r = run_convert(golden(fixture), "--info", cwd=self.tmp)
                self.assertEqual(r.returncode, 0, r.stderr)
                info = dict(line.split(": ", 1) for line in r.stdout.strip().splitlines())
                self.assertIn(fmt, info["format"])
                for key, value in {"resolution": "32", "z_dim": "64", "w_dim": "64", "num_ws": "8",
                                   "mapping_layers": "2", "parameters": "263987",
                                   "channels": "4:64 8:64 16:64 32:32",
                                   "output_bytes": str(golden("tiny.safetensors").stat().st_size)}.items():
                    self.assertEqual(info[key], value, key)
                self.assertEqual(list(self.tmp.iterdir()), [], "--info wrote a file")


def golden_tensors():
    return read_safetensors(golden("tiny.safetensors"))[1]


def rosinality_state_dict(torch, t):
    """tiny in rosinality's layout, written from the table in tiny_rosinality.md
    (the inverse direction of the converter, implemented independently)."""
    T = lambda a: torch.from_numpy(np.array(a, dtype=np.float32))  # noqa: E731
    blur = T(np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64.0 * 4)
    sd = collections.OrderedDict()
    for i in range(2):
        sd[f"style.{i + 1}.weight"] = T(t[f"mapping.fc{i}.weight"])
        sd[f"style.{i + 1}.bias"] = T(t[f"mapping.fc{i}.bias"])
    sd["input.input"] = T(t["synthesis.b4.const"][None])

    def conv(dst, src, up):
        sd[f"{dst}.conv.weight"] = T(t[f"{src}.weight"][None])
        if up:
            sd[f"{dst}.conv.blur.kernel"] = blur
        sd[f"{dst}.conv.modulation.weight"] = T(t[f"{src}.affine.weight"])
        sd[f"{dst}.conv.modulation.bias"] = T(t[f"{src}.affine.bias"])
        sd[f"{dst}.noise.weight"] = T(t[f"{src}.noise_strength"].reshape(1))
        sd[f"{dst}.activate.bias"] = T(t[f"{src}.bias"])

    def rgb(dst, src, up):
        if up:
            sd[f"{dst}.upsample.kernel"] = blur
        sd[f"{dst}.bias"] = T(t[f"{src}.bias"].reshape(1, 3, 1, 1))
        sd[f"{dst}.conv.weight"] = T(t[f"{src}.weight"][None])
        sd[f"{dst}.conv.modulation.weight"] = T(t[f"{src}.affine.weight"])
        sd[f"{dst}.conv.modulation.bias"] = T(t[f"{src}.affine.bias"])

    conv("conv1", "synthesis.b4.conv1", False)
    rgb("to_rgb1", "synthesis.b4.torgb", False)
    for k, res in enumerate([8, 16, 32]):
        conv(f"convs.{2 * k}", f"synthesis.b{res}.conv0", True)
        conv(f"convs.{2 * k + 1}", f"synthesis.b{res}.conv1", False)
        rgb(f"to_rgbs.{k}", f"synthesis.b{res}.torgb", True)
    sd["noises.noise_0"] = T(t["synthesis.b4.conv1.noise_const"][None, None])
    for k, res in enumerate([8, 16, 32]):
        sd[f"noises.noise_{2 * k + 1}"] = T(t[f"synthesis.b{res}.conv0.noise_const"][None, None])
        sd[f"noises.noise_{2 * k + 2}"] = T(t[f"synthesis.b{res}.conv1.noise_const"][None, None])
    return sd


def torch_mapping(torch, t, z):
    """The mapping network in float64 torch (golden/README.md), for checking
    the converter's w_avg estimate independently of its numpy code."""
    x = torch.tensor(np.array(z), dtype=torch.float64)
    x = x * (x.square().mean(dim=1, keepdim=True) + 1e-8).rsqrt()
    for i in range(2):
        w = torch.from_numpy(t[f"mapping.fc{i}.weight"].astype(np.float64))
        b = torch.from_numpy(t[f"mapping.fc{i}.bias"].astype(np.float64))
        x = torch.nn.functional.linear(x, w * (0.01 / math.sqrt(w.shape[1])), b * 0.01)
        x = torch.nn.functional.leaky_relu(x, 0.2) * math.sqrt(2)
    return x


class RosinalityVariants(ScratchTestCase):
    """Checkpoints written with torch.save in the layouts rosinality's scripts produce."""

    def test_legacy_torch_save_format(self):
        torch = torch_or_skip()
        t = golden_tensors()
        src = self.tmp / "legacy.pt"
        torch.save({"g_ema": rosinality_state_dict(torch, t),
                    "latent_avg": torch.from_numpy(t["mapping.w_avg"].copy())},
                   src, _use_new_zipfile_serialization=False)
        self.assertFalse(src.read_bytes().startswith(b"PK"), "expected the legacy format")
        out = self.tmp / "legacy.safetensors"
        r = run_convert(src, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(out.read_bytes(), golden("tiny.safetensors").read_bytes())

    def test_train_py_checkpoint_without_latent_avg_gets_an_estimated_w_avg(self):
        torch = torch_or_skip()
        t = golden_tensors()
        sd = rosinality_state_dict(torch, t)
        p = torch.nn.Parameter(torch.zeros(3))
        opt = torch.optim.Adam([p], lr=0.002, betas=(0, 0.99))
        p.sum().backward()
        opt.step()
        src = self.tmp / "550.pt"
        torch.save({"g": sd, "d": {"convs.0.0.weight": torch.zeros(4, 3, 1, 1)}, "g_ema": sd,
                    "g_optim": opt.state_dict(), "d_optim": opt.state_dict(),
                    "args": argparse.Namespace(size=32, n_mlp=2, path="data/ffhq"),
                    "ada_aug_p": 0.0}, src)
        out = self.tmp / "550.safetensors"
        r = run_convert(src, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("no latent_avg", r.stderr)
        _, got = read_safetensors(out)
        self.assertEqual(list(got), list(t))
        for key in t:
            if key != "mapping.w_avg":
                self.assertTrue(np.array_equal(got[key], t[key]), key)

        # The reference mapping reproduces the golden w (so it is a fair judge) ...
        io = read_safetensors(golden("tiny_io.safetensors"))[1]
        w_ref = torch_mapping(torch, t, io["z"]).numpy()
        self.assertLess(np.abs(w_ref - io["w_psi1"][:, 0]).max(), 1e-5)
        # ... and an independent 20,000-sample mean agrees with the converter's
        # 10,000-sample estimate within 5 standard errors per dimension.
        gen = torch.Generator().manual_seed(12345)
        w = torch_mapping(torch, t, torch.randn(20000, 64, generator=gen, dtype=torch.float64)).numpy()
        tol = 5 * w.std(axis=0) * math.sqrt(1 / 10000 + 1 / 20000)
        diff = np.abs(got["mapping.w_avg"] - w.mean(axis=0))
        self.assertTrue(np.all(diff <= tol), f"w_avg off by {diff.max()} (tolerance {tol.min()}..)")
        self.assertGreater(np.abs(got["mapping.w_avg"]).max(), 0.05, "w_avg looks like zeros")

        # Same input, same bytes.
        again = self.tmp / "again.safetensors"
        self.assertEqual(run_convert(src, "-o", again).returncode, 0)
        self.assertEqual(again.read_bytes(), out.read_bytes())


class _FakeModules:
    """Registers stand-in modules torch_utils.persistence and dnnlib.util in this
    test process so that pickle writes the same globals NVIDIA's code writes."""

    def __enter__(self):
        import types
        self.saved = {n: sys.modules.get(n) for n in ("torch_utils", "torch_utils.persistence",
                                                      "dnnlib", "dnnlib.util")}
        tu, per = types.ModuleType("torch_utils"), types.ModuleType("torch_utils.persistence")
        dn, util = types.ModuleType("dnnlib"), types.ModuleType("dnnlib.util")

        def _reconstruct_persistent_obj(meta):
            raise AssertionError("never called in the tests")
        _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
        _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
        per._reconstruct_persistent_obj, tu.persistence = _reconstruct_persistent_obj, per
        easy = type("EasyDict", (dict,), {"__module__": "dnnlib.util"})
        util.EasyDict, dn.util = easy, util
        sys.modules.update({"torch_utils": tu, "torch_utils.persistence": per, "dnnlib": dn,
                            "dnnlib.util": util})
        self.reconstruct, self.EasyDict = _reconstruct_persistent_obj, easy
        return self

    def __exit__(self, *exc):
        for n, m in self.saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


class _Persistent:
    def __init__(self, fake, class_name, state):
        self.fn, self.meta = fake.reconstruct, {"type": "class", "version": 6,
                                                "module_src": "# source omitted",
                                                "class_name": class_name, "state": state}

    def __reduce__(self):
        return (self.fn, (self.meta,))


def nvlabs_pickle(torch, fake, tensors, init_kwargs, drop=()):
    """An NVIDIA-style network pickle of `tensors` (a state dict)."""
    buffers = ("resample_filter", "noise_const", "w_avg")

    def module(path, class_name, state_extra=None):
        prefix = path + "." if path else ""
        names = [k[len(prefix):] for k in tensors if k.startswith(prefix) and k not in drop]
        params, bufs, children = (collections.OrderedDict() for _ in range(3))
        for n in names:
            if "." in n:
                children.setdefault(n.split(".")[0], None)
            elif n in buffers:
                bufs[n] = torch.from_numpy(np.array(tensors[prefix + n]))
            else:
                params[n] = torch.nn.Parameter(torch.from_numpy(np.array(tensors[prefix + n])),
                                               requires_grad=False)
        for c in children:
            children[c] = module(prefix + c, "Layer")
        state = {"training": False, "_parameters": params, "_buffers": bufs,
                 "_non_persistent_buffers_set": set(), "_forward_hooks": collections.OrderedDict(),
                 "_modules": children, "weight_gain": np.float64(0.125)}
        state.update(state_extra or {})
        return _Persistent(fake, class_name, state)

    g = module("", "Generator", {"_init_args": (), "_init_kwargs": init_kwargs})
    d = _Persistent(fake, "Discriminator", {"_parameters": collections.OrderedDict(
        w=torch.nn.Parameter(torch.ones(3, 3))), "_buffers": collections.OrderedDict(),
        "_modules": collections.OrderedDict()})
    top = {"G": g, "D": d, "G_ema": g, "augment_pipe": None,
           "training_set_kwargs": {"path": "ffhq.zip", "resolution": 32}}
    return pickle.dumps(top, protocol=4)


class NvlabsVariants(ScratchTestCase):
    """Variants real NVIDIA pickles have and the fixture does not."""

    def kwargs(self, fake, **synthesis):
        return fake.EasyDict(z_dim=64, c_dim=0, w_dim=64, img_resolution=32, img_channels=3,
                             mapping_kwargs=fake.EasyDict(num_layers=2), **synthesis)

    def convert(self, data):
        src, out = self.tmp / "net.pkl", self.tmp / "net.safetensors"
        src.write_bytes(data)
        return run_convert(src, "-o", out), out

    def test_stylegan3_release_layout_with_fp16_and_clamp(self):
        torch = torch_or_skip()
        t = golden_tensors()
        with _FakeModules() as fake:
            # stylegan3's Generator takes the synthesis kwargs flat.
            data = nvlabs_pickle(torch, fake, t, self.kwargs(
                fake, channel_base=1024, channel_max=64, num_fp16_res=4, conv_clamp=256,
                fused_modconv_default="inference_only"))
        r, out = self.convert(data)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("warning", r.stderr)
        meta, got = read_safetensors(out)
        cfg = json.loads(meta["config"])
        self.assertEqual(cfg["synthesis_kwargs"], {"channel_base": 1024, "channel_max": 64,
                                                   "num_fp16_res": 4, "conv_clamp": 256,
                                                   "architecture": "skip"})
        self.assertEqual(list(got), list(t))
        for key in t:
            self.assertTrue(np.array_equal(got[key], t[key]), key)

    def test_unsupported_generators_are_refused(self):
        torch = torch_or_skip()
        t = golden_tensors()
        cases = [
            ({"c_dim": 3}, (), "conditional generators"),
            ({"synthesis_kwargs": {"channel_base": 1024, "channel_max": 64, "architecture": "resnet"}},
             (), "architecture='resnet'"),
            ({"synthesis_kwargs": {"channel_base": 2048, "channel_max": 64}}, (),
             "tensor synthesis.b32.conv0.weight has shape [32, 64, 3, 3]"),
            ({"synthesis_kwargs": {"channel_base": 1024, "channel_max": 64}},
             ("synthesis.b16.conv1.noise_const",), "missing tensor synthesis.b16.conv1.noise_const"),
        ]
        for change, drop, message in cases:
            with self.subTest(message):
                with _FakeModules() as fake:
                    kw = self.kwargs(fake)
                    kw.update(change)
                    data = nvlabs_pickle(torch, fake, t, kw, drop)
                r, out = self.convert(data)
                self.assert_one_line_error(r, 5, message)
                self.assertFalse(out.exists())

    def test_stylegan3_generators_are_refused(self):
        torch = torch_or_skip()
        t = {"synthesis.input.weight": np.zeros((4, 2), np.float32), **golden_tensors()}
        with _FakeModules() as fake:
            data = nvlabs_pickle(torch, fake, t, self.kwargs(fake, channel_base=1024, channel_max=64))
        r, _ = self.convert(data)
        self.assert_one_line_error(r, 5, "StyleGAN3")


class FacemixReproduction(ScratchTestCase):
    """Converted models run in facemix reproduce NVIDIA's img_mixed."""

    def test_converted_models_reproduce_img_mixed(self):
        exe = facemix_binary()
        io = read_safetensors(golden("tiny_io.safetensors"))[1]
        ws = self.tmp / "ws.npz"
        np.savez(ws, w=np.array(io["ws_mixed"]))
        for fixture in ["tiny_nvlabs_network.pkl", "tiny_rosinality.pt", "tiny_tf_network.pkl"]:
            with self.subTest(fixture):
                model = self.tmp / f"{fixture}.safetensors"
                r = run_convert(golden(fixture), "-o", model)
                self.assertEqual(r.returncode, 0, r.stderr)
                raw, pngs = self.tmp / f"{fixture}.npy", self.tmp / f"{fixture}-png"
                g = subprocess.run([exe, "generate", "--model", str(model), "--latents", str(ws),
                                    "--raw", str(raw), "--noise-mode", "const", "--out-dir", str(pngs)],
                                   capture_output=True, text=True, timeout=600)
                self.assertEqual(g.returncode, 0, f"facemix generate failed: {g.stderr}")
                img = np.load(raw)
                self.assertEqual(img.shape, io["img_mixed"].shape)
                err = np.abs(img.astype(np.float64) - io["img_mixed"]).max()
                self.assertLessEqual(err, 1e-4, f"img_mixed max |diff| {err}")


if __name__ == "__main__":
    unittest.main()
