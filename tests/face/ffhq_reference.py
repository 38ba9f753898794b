#!/usr/bin/python3
"""Reference for facemix's alignment tests, run with Debian's python3-pil and
python3-numpy: the real Pillow resize/transform, and the FFHQ
recreate_aligned_images procedure written out in numpy from its published
description (scipy's gaussian_filter, which is not installed, is reproduced
with numpy: kernel radius int(4 sigma + 0.5), 'reflect' = numpy 'symmetric').

usage:
  ffhq_reference.py resize IN.png OUT.png W H
  ffhq_reference.py quad IN.png OUT.png SIZE x0 y0 x1 y1 x2 y2 x3 y3
  ffhq_reference.py align IN.png LANDMARKS.json OUT.png OUTPUT_SIZE [TRANSFORM_SIZE]
LANDMARKS.json holds {"landmarks": [[x, y] * 68]}. Images are RGB PNG files.
"""
import json
import sys

import numpy as np
import PIL.Image

LANCZOS = PIL.Image.LANCZOS  # the filter FFHQ calls ANTIALIAS


def gaussian_blur_hw(img, sigma):
    radius = int(4.0 * sigma + 0.5)
    taps = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 / (sigma * sigma) * taps.astype(np.float64) ** 2)
    kernel /= kernel.sum()
    out = img.astype(np.float32)
    for axis in (0, 1):
        widths = [(0, 0)] * 3
        widths[axis] = (radius, radius)
        padded = np.pad(out.astype(np.float64), widths, mode="symmetric")
        acc = np.zeros(out.shape, dtype=np.float64)
        n = out.shape[axis]
        for i, w in enumerate(kernel):
            sl = [slice(None)] * 3
            sl[axis] = slice(i, i + n)
            acc += w * padded[tuple(sl)]
        out = acc.astype(np.float32)
    return out


def ffhq_align(img, lm, output_size, transform_size, enable_padding=True):
    lm = np.array(lm, dtype=np.float64)
    eye_left = np.mean(lm[36:42], axis=0)
    eye_right = np.mean(lm[42:48], axis=0)
    eye_avg = (eye_left + eye_right) * 0.5
    eye_to_eye = eye_right - eye_left
    mouth_avg = (lm[48] + lm[54]) * 0.5
    eye_to_mouth = mouth_avg - eye_avg

    x = eye_to_eye - np.flipud(eye_to_mouth) * [-1, 1]
    x /= np.hypot(*x)
    x *= max(np.hypot(*eye_to_eye) * 2.0, np.hypot(*eye_to_mouth) * 1.8)
    y = np.flipud(x) * [-1, 1]
    c = eye_avg + eye_to_mouth * 0.1
    quad = np.stack([c - x - y, c - x + y, c + x + y, c + x - y])
    qsize = np.hypot(*x) * 2

    shrink = int(np.floor(qsize / output_size * 0.5))
    if shrink > 1:
        rsize = (int(np.rint(float(img.size[0]) / shrink)), int(np.rint(float(img.size[1]) / shrink)))
        img = img.resize(rsize, LANCZOS)
        quad /= shrink
        qsize /= shrink

    border = max(int(np.rint(qsize * 0.1)), 3)
    crop = (int(np.floor(min(quad[:, 0]))), int(np.floor(min(quad[:, 1]))),
            int(np.ceil(max(quad[:, 0]))), int(np.ceil(max(quad[:, 1]))))
    crop = (max(crop[0] - border, 0), max(crop[1] - border, 0),
            min(crop[2] + border, img.size[0]), min(crop[3] + border, img.size[1]))
    if crop[2] - crop[0] < img.size[0] or crop[3] - crop[1] < img.size[1]:
        img = img.crop(crop)
        quad -= crop[0:2]

    pad = (int(np.floor(min(quad[:, 0]))), int(np.floor(min(quad[:, 1]))),
           int(np.ceil(max(quad[:, 0]))), int(np.ceil(max(quad[:, 1]))))
    pad = (max(-pad[0] + border, 0), max(-pad[1] + border, 0),
           max(pad[2] - img.size[0] + border, 0), max(pad[3] - img.size[1] + border, 0))
    if enable_padding and max(pad) > border - 4:
        pad = np.maximum(pad, int(np.rint(qsize * 0.3)))
        arr = np.pad(np.float32(img), ((pad[1], pad[3]), (pad[0], pad[2]), (0, 0)), "reflect")
        h, w, _ = arr.shape
        yy, xx, _ = np.ogrid[:h, :w, :1]
        mask = np.maximum(1.0 - np.minimum(np.float32(xx) / pad[0], np.float32(w - 1 - xx) / pad[2]),
                          1.0 - np.minimum(np.float32(yy) / pad[1], np.float32(h - 1 - yy) / pad[3]))
        blur = qsize * 0.02
        arr += (gaussian_blur_hw(arr, blur) - arr) * np.clip(mask * 3.0 + 1.0, 0.0, 1.0)
        arr += (np.median(arr, axis=(0, 1)) - arr) * np.clip(mask, 0.0, 1.0)
        img = PIL.Image.fromarray(np.uint8(np.clip(np.rint(arr), 0, 255)), "RGB")
        quad += pad[:2]

    img = img.transform((transform_size, transform_size), PIL.Image.QUAD, (quad + 0.5).flatten(),
                        PIL.Image.BILINEAR)
    if output_size < transform_size:
        img = img.resize((output_size, output_size), LANCZOS)
    return img


def main(argv):
    cmd = argv[1]
    if cmd == "resize":
        PIL.Image.open(argv[2]).convert("RGB").resize((int(argv[4]), int(argv[5])), LANCZOS).save(argv[3])
    elif cmd == "quad":
        size = int(argv[4])
        data = [float(v) for v in argv[5:13]]
        img = PIL.Image.open(argv[2]).convert("RGB")
        img.transform((size, size), PIL.Image.QUAD, data, PIL.Image.BILINEAR).save(argv[3])
    elif cmd == "align":
        with open(argv[3]) as f:
            lm = json.load(f)["landmarks"]
        out_size = int(argv[5])
        t_size = int(argv[6]) if len(argv) > 6 else 4 * out_size
        img = PIL.Image.open(argv[2]).convert("RGB")
        ffhq_align(img, lm, out_size, t_size).save(argv[4])
    else:
        raise SystemExit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
