#!/usr/bin/python3
"""Writes facemix's bad-input corpus (tests/badinput/cases.tsv names the files).

    /usr/bin/python3 scripts/make_bad_inputs.py OUT_DIR [--shared ../shared]
    /usr/bin/python3 scripts/make_bad_inputs.py --fuzz-seeds fuzz/corpus [--shared ../shared]

Everything is derived deterministically from the fixtures in ../shared (a face
photo and the tiny golden model), so the corpus is generated at test time
instead of being checked in (the model variants are ~1 MB each). Needs Pillow
and numpy (Debian python3-pil, python3-numpy).

--fuzz-seeds writes the small seed corpora of the fuzz targets instead
(fuzz/corpus/<target>/); those are checked in.
"""
import argparse
import io
import json
import os
import struct
import sys
import zipfile
import zlib

import numpy as np
from PIL import Image

FACE = "faces/congress_S001223_glasses.jpg"  # 450x550, one frontal face
TINY = "golden/tiny.safetensors"


# ---- PNG / JPEG helpers -----------------------------------------------------

def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width, height, bit_depth, color_type, raw_rows):
    """A PNG from already-filtered scanlines (each row starts with its filter byte)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
            png_chunk(b"IDAT", zlib.compress(raw_rows, 9)) + png_chunk(b"IEND", b""))


def png_from_array(a, bit_depth):
    """uint8/uint16 array HxW or HxWxC (C = 1, 2, 3, 4) -> PNG bytes."""
    if a.ndim == 2:
        a = a[:, :, None]
    h, w, c = a.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    dt = ">u2" if bit_depth == 16 else "u1"
    body = a.astype(dt).reshape(h, -1).tobytes()
    row = len(body) // h
    raw = b"".join(b"\x00" + body[y * row:(y + 1) * row] for y in range(h))
    return png_bytes(w, h, bit_depth, color_type, raw)


def jpeg_bytes(img, **kw):
    b = io.BytesIO()
    img.save(b, "JPEG", quality=90, **kw)
    return b.getvalue()


def jpeg_with_size(jpeg, width, height):
    """Rewrites the frame size in the first SOF marker."""
    b = bytearray(jpeg)
    i = 2
    while i < len(b):
        marker = b[i + 1]
        length = struct.unpack(">H", b[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            struct.pack_into(">HH", b, i + 5, height, width)
            return bytes(b)
        i += 2 + length
    raise ValueError("no SOF marker")


def flip_bits(data, start, count, step):
    b = bytearray(data)
    for k in range(count):
        b[start + k * step] ^= 0x5A
    return bytes(b)


# ---- safetensors helpers ----------------------------------------------------

def read_safetensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    return header, raw[8 + n:]


def safetensors_bytes(header, data):
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def tensor_names(header):
    return [k for k in header if k != "__metadata__"]


# ---- npz helpers ------------------------------------------------------------

def npy_bytes(a):
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


def npz_bytes(arrays, compress=False):
    """Deterministic .npz (fixed timestamps)."""
    b = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(b, "w", method) as z:
        for name, a in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, npy_bytes(a))
    return b.getvalue()


def npz_claiming(uncompressed_size):
    """A one-member deflated .npz whose headers claim `uncompressed_size` bytes."""
    data = npz_bytes({"w": np.zeros((1, 64), np.float32)}, compress=True)
    b = bytearray(data)
    central = b.find(b"PK\x01\x02")
    local = b.find(b"PK\x03\x04")
    struct.pack_into("<I", b, local + 22, uncompressed_size)
    struct.pack_into("<I", b, central + 24, uncompressed_size)
    return bytes(b)


# ---- the corpus -------------------------------------------------------------

def face_image(shared):
    return Image.open(os.path.join(shared, FACE)).convert("RGB")


def image_cases(shared):
    face = face_image(shared)
    rgb = np.asarray(face)
    good_png = png_from_array(rgb, 8)
    good_jpg = jpeg_bytes(face)
    small = face.resize((120, 146))
    out = {
        "empty.png": b"",
        "empty.jpg": b"",
        "text.png": b"This is a text file, not a PNG image.\n",
        "text.jpg": b"Hello: a plain text file with a .jpg name.\n" * 4,
        "truncated.png": good_png[:len(good_png) // 2],
        "truncated.jpg": good_jpg[:len(good_jpg) // 2],
        # Damage inside the compressed pixel data: CRC / zlib errors for PNG.
        "bitflip.png": flip_bits(good_png, len(good_png) // 2, 16, 97),
        # Damage to the JPEG Huffman tables (DHT): the decoder must refuse.
        "bitflip_dht.jpg": flip_bits(good_jpg, good_jpg.find(b"\xff\xc4") + 5, 12, 1),
        # Decompression bombs: tiny files whose headers claim huge images.
        "bomb.png": png_bytes(100000, 100000, 8, 2, zlib.compress(b"\x00" * 1000)),
        "bomb.jpg": jpeg_with_size(jpeg_bytes(small), 60000, 60000),
        "zero_size.png": png_bytes(0, 0, 8, 2, zlib.compress(b"")),
        # Accepted formats: 16-bit colour, 16-bit grey + alpha, CMYK JPEG, EXIF-rotated JPEG.
        "rgb16.png": png_from_array(rgb.astype(np.uint16) * 257, 16),
        "gray_alpha16.png": png_from_array(
            np.dstack([np.asarray(face.convert("L"), np.uint16) * 257,
                       np.full(rgb.shape[:2], 65535, np.uint16)]), 16),
        "cmyk.jpg": jpeg_bytes(face.convert("CMYK")),
    }
    # EXIF orientation 8 (rotate 90 CW to view): store the face turned 90 CCW... so
    # the viewer's rotation makes it upright again. Without the rotation no face is found.
    exif = Image.Exif()
    exif[0x0112] = 8
    out["exif_rotated.jpg"] = jpeg_bytes(face.transpose(Image.Transpose.ROTATE_270), exif=exif.tobytes())
    return out


def deep_config_model(header, data, depth):
    h = json.loads(json.dumps(header))
    cfg = json.loads(h["__metadata__"]["config"])
    cfg["synthesis_kwargs"]["architecture"] = "@DEEP@"
    h["__metadata__"]["config"] = json.dumps(cfg).replace('"@DEEP@"', "[" * depth + "]" * depth)
    return safetensors_bytes(h, data)


def model_cases(shared):
    header, data = read_safetensors(os.path.join(shared, TINY))
    names = tensor_names(header)
    out = {}
    out["huge_header.safetensors"] = struct.pack("<Q", 1 << 62) + b"{}" + b" " * 30
    out["header_past_end.safetensors"] = struct.pack("<Q", 4096) + b'{"a": 1}'
    out["text.safetensors"] = b"not a model: just some text in a file\n"
    raw = safetensors_bytes(header, data)
    out["truncated.safetensors"] = raw[:len(raw) * 2 // 3]

    # Two tensors sharing bytes: the second starts inside the first.
    h = json.loads(json.dumps(header))
    first, second = sorted(names, key=lambda k: h[k]["data_offsets"][0])[0:2]
    a0, a1 = h[first]["data_offsets"]
    b0, b1 = h[second]["data_offsets"]
    if a1 - a0 >= 8:
        shift = min(b0 - a0 - 4, b0)
        h[second]["data_offsets"] = [b0 - shift, b1 - shift]
    out["overlap.safetensors"] = safetensors_bytes(h, data)

    # NaN in one weight: the model must be refused when loaded, naming the tensor.
    victim = next(k for k in names if k.endswith("conv1.weight"))
    d = bytearray(data)
    o0 = header[victim]["data_offsets"][0]
    struct.pack_into("<f", d, o0 + 8, float("nan"))
    out["nan_weights.safetensors"] = safetensors_bytes(header, bytes(d))

    # A small file whose config asks for an enormous generator (memory bomb).
    h = json.loads(json.dumps(header))
    cfg = json.loads(h["__metadata__"]["config"])
    cfg.update(z_dim=8192, w_dim=8192, img_resolution=1024)
    cfg["synthesis_kwargs"].update(channel_base=1 << 24, channel_max=8192)
    cfg["mapping_kwargs"].update(num_layers=64)
    h["__metadata__"]["config"] = json.dumps(cfg)
    out["config_bomb.safetensors"] = safetensors_bytes(h, data)

    # A config value nested 100000 deep (quoting it in an error once overflowed the stack).
    out["deep_config.safetensors"] = deep_config_model(header, data, 100000)

    # Unknown dtype.
    h = json.loads(json.dumps(header))
    h[names[0]]["dtype"] = "Q7"
    out["bad_dtype.safetensors"] = safetensors_bytes(h, data)
    return out


def latent_cases(shared):
    header, _ = read_safetensors(os.path.join(shared, TINY))
    cfg = json.loads(header["__metadata__"]["config"])
    w_dim = cfg["w_dim"]
    rng = np.random.default_rng(8)
    return {
        "wrong_shape.npz": npz_bytes({"w": rng.standard_normal((1, 3, w_dim + 1)).astype(np.float32)}),
        "wrong_rank.npz": npz_bytes({"w": rng.standard_normal((w_dim,)).astype(np.float32)}),
        "no_w.npz": npz_bytes({"z": rng.standard_normal((1, w_dim)).astype(np.float32)}),
        "text.npz": b"PK but not really a zip archive\n",
        "zip_bomb.npz": npz_claiming(0xFFFFFFF0),
        "truncated.npz": npz_bytes({"w": rng.standard_normal((1, 8, w_dim)).astype(np.float32)})[:300],
        "bad_magic.npy": b"\x93NUMPX" + b"\x01\x00" + b"\x10\x00" + b"{}" + b" " * 14,
        "int_dtype.npy": npy_bytes(np.zeros((1, w_dim), np.int32)),
    }


def manifest_cases():
    return {
        "unbalanced_quotes.csv": b'image_a,image_b,output\n"a.jpg,b.jpg,out.png\n',
    }


def write_all(files, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    for name, data in sorted(files.items()):
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)


def fuzz_seeds(shared, out_root):
    face = face_image(shared)
    tiny_face = face.resize((60, 73))
    images = {
        "face.jpg": jpeg_bytes(face.resize((120, 146)), ),
        "tiny.png": png_from_array(np.asarray(tiny_face.resize((16, 16))), 8),
        "gray_alpha16.png": png_from_array(
            np.dstack([np.full((8, 8), 30000, np.uint16), np.full((8, 8), 50000, np.uint16)]), 16),
        "cmyk.jpg": jpeg_bytes(tiny_face.resize((16, 16)).convert("CMYK")),
        "gray.jpg": jpeg_bytes(tiny_face.convert("L").resize((16, 16))),
        "bomb.png": png_bytes(100000, 100000, 8, 2, zlib.compress(b"\x00" * 100)),
    }
    exif = Image.Exif()
    exif[0x0112] = 6
    images["exif6.jpg"] = jpeg_bytes(tiny_face.resize((16, 20)), exif=exif.tobytes())
    write_all(images, os.path.join(out_root, "image_face"))

    rng = np.random.default_rng(1)
    latents = {
        "w.npz": npz_bytes({"w": rng.standard_normal((1, 4, 8)).astype(np.float32)}),
        "w_deflated.npz": npz_bytes({"w": rng.standard_normal((2, 8)).astype(np.float32)}, compress=True),
        "w.npy": npy_bytes(rng.standard_normal((1, 4, 8)).astype(np.float32)),
        "w_f16_fortran.npy": npy_bytes(np.asfortranarray(rng.standard_normal((2, 3)).astype(np.float16))),
        "w_f64_be.npy": npy_bytes(rng.standard_normal((2, 4)).astype(">f8")),
    }
    write_all(latents, os.path.join(out_root, "latent_file"))

    # align_landmarks: image size + 68 landmark pairs (u16 fractions of 4x the size,
    # offset by one size): one realistic layout and one degenerate (all points equal).
    pts = []
    for i in range(68):  # a rough face: jaw arc, eyes, nose, mouth
        a = np.pi * i / 67.0
        pts.append((0.5 + 0.3 * np.cos(a) * (1 if i < 17 else 0.6), 0.5 + 0.3 * np.sin(a)))
    def pack(w, h, points):
        b = struct.pack("<HH", w - 16, h - 16)
        for x, y in points:
            b += struct.pack("<HH", int((x + 1) / 4 * 65535), int((y + 1) / 4 * 65535))
        return b
    write_all(model_seeds(shared), os.path.join(out_root, "model_file"))
    write_all({
        "basic.csv": b"output,input1,input2\nout/ab.png,a.jpg,b.jpg\n",
        "options.tsv": b"# three-way blends\noutput\tinput1\tinput2\tinput3\tweights\tpaste_into\ttruncation\n"
                       b"abc.jpg\t/p/a.jpg\tb.jpg\tc.jpg\t0.5;0.3;0.2\t2\t0.7\n\nab.png\ta.jpg\tb.jpg\t\t\t0\t\n",
        "quoted.csv": b'output,input1,input2,weights\n"o, ""1"".png","a\nb.jpg",c.jpg,"0.7,0.3"\n',
    }, os.path.join(out_root, "manifest"))
    write_all({"face_layout.bin": pack(128, 160, pts), "all_same.bin": pack(64, 64, [(0.5, 0.5)] * 68)},
              os.path.join(out_root, "align_landmarks"))


def small_model(shared):
    """A valid 8x8 model (z = w = 8, 8 channels) derived from the tiny golden model:
    its mapping, b4 and b8 tensors with every 64 (= its z_dim, w_dim and channel
    count there) replaced by 8; random weights, NVIDIA's resample filters kept."""
    header, data = read_safetensors(os.path.join(shared, TINY))
    cfg = json.loads(header["__metadata__"]["config"])
    cfg.update(z_dim=8, w_dim=8, img_resolution=8)
    cfg["synthesis_kwargs"].update(channel_max=8)
    rng = np.random.default_rng(5)
    out_header = {"__metadata__": dict(header["__metadata__"], config=json.dumps(cfg))}
    blobs, offset = [], 0
    for name in tensor_names(header):
        if not (name.startswith("mapping.") or name.startswith("synthesis.b4.") or name.startswith("synthesis.b8.")):
            continue
        shape = [8 if d == 64 else d for d in header[name]["shape"]]
        if name.endswith("resample_filter"):
            o0, o1 = header[name]["data_offsets"]
            blob = data[o0:o1]
        else:
            blob = (rng.standard_normal(shape) * 0.1).astype("<f4").tobytes()
        out_header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    return safetensors_bytes(out_header, b"".join(blobs))


def model_seeds(shared):
    good = small_model(shared)
    header, data = read_safetensors(os.path.join(shared, TINY))
    half = json.loads(good[8:8 + struct.unpack("<Q", good[:8])[0]])
    for k in tensor_names(half):
        half[k]["dtype"] = "F16"
    # F16 data: same tensors, half the bytes (offsets recomputed).
    blobs, offset = [], 0
    for k in tensor_names(half):
        n = int(np.prod(half[k]["shape"])) if half[k]["shape"] else 1
        if k.endswith("resample_filter"):  # NVIDIA's [1, 3, 3, 1] filter, exact in float16
            blob = (np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64.0).astype("<f2").tobytes()
        else:
            blob = np.full(n, 0.25, "<f2").tobytes()
        half[k]["data_offsets"] = [offset, offset + len(blob)]
        blobs.append(blob)
        offset += len(blob)
    return {
        "small8.safetensors": good,
        "small8_f16.safetensors": safetensors_bytes(half, b"".join(blobs)),
        "header_only.safetensors": safetensors_bytes({"__metadata__": header["__metadata__"]}, b""),
        "one_tensor.safetensors": safetensors_bytes(
            {"x": {"dtype": "BF16", "shape": [2, 1], "data_offsets": [0, 4]}}, b"\x00\x3f\x80\x3f"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir", nargs="?")
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))
    ap.add_argument("--fuzz-seeds", metavar="DIR", help="write the fuzz seed corpora under DIR/<target>/ instead")
    args = ap.parse_args()
    if args.fuzz_seeds:
        fuzz_seeds(args.shared, args.fuzz_seeds)
        return 0
    if not args.out_dir:
        ap.error("give OUT_DIR or --fuzz-seeds DIR")
    files = {}
    for part in (image_cases(args.shared), model_cases(args.shared), latent_cases(args.shared), manifest_cases()):
        files.update(part)
    write_all(files, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
