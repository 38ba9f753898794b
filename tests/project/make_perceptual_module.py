#!/usr/bin/python3
"""Writes a small TorchScript feature network with the call signature of
NVIDIA's LPIPS VGG16 (metrics/vgg16.pt):

    features = module(img, resize_images=False, return_lpips=True)   # [N, F]

img is [N, 3, H, W] in [0, 255]. With return_lpips=True the features of each
stage are unit-normalised over channels and scaled by 1/sqrt(H*W), so the
squared distance of two feature vectors is an LPIPS-like perceptual distance.
The weights are random (fixed seed): the module exists so that the tests can
exercise facemix's --perceptual path without NVIDIA's 500 MB file.

usage: /usr/bin/python3 make_perceptual_module.py OUT.pt
"""
import sys

import torch


class TinyPerceptual(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1234)
        self.convs = torch.nn.ModuleList(
            [torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.Conv2d(8, 16, 3, padding=1),
             torch.nn.Conv2d(16, 16, 3, padding=1)])

    def forward(self, img: torch.Tensor, resize_images: bool = True, return_lpips: bool = False) -> torch.Tensor:
        x = img / 127.5 - 1.0
        if resize_images:
            x = torch.nn.functional.interpolate(x, size=(224, 224), mode="area")
        feats = []
        for conv in self.convs:
            x = torch.relu(conv(x))
            feats.append(x)
            x = torch.nn.functional.avg_pool2d(x, 2)
        out = []
        for f in feats:
            if return_lpips:
                f = f / (f.square().sum(dim=1, keepdim=True) + 1e-10).sqrt()
                f = f / float(f.shape[2] * f.shape[3]) ** 0.5
            out.append(f.flatten(1))
        return torch.cat(out, dim=1)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    module = torch.jit.script(TinyPerceptual().eval())
    for p in module.parameters():
        p.requires_grad_(False)
    module.save(sys.argv[1])


if __name__ == "__main__":
    main()
