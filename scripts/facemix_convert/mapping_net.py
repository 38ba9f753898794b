"""The StyleGAN2 mapping network in numpy (float64), for estimating w_avg.

Forward (golden/README.md "Mapping"): normalise z by its RMS (eps 1e-8), then
for every fc layer x = lrelu(x @ (W * 0.01/sqrt(in)).T + 0.01*b, 0.2) * sqrt(2).
"""

import numpy as np

LR_MULTIPLIER = 0.01
W_AVG_SAMPLES = 10_000
W_AVG_SEED = 0


def mapping_forward(tensors, num_layers, z):
    x = np.asarray(z, dtype=np.float64)
    x = x / np.sqrt(np.mean(x * x, axis=1, keepdims=True) + 1e-8)
    for i in range(num_layers):
        weight = tensors[f"mapping.fc{i}.weight"].astype(np.float64)
        bias = tensors[f"mapping.fc{i}.bias"].astype(np.float64)
        gain = LR_MULTIPLIER / np.sqrt(weight.shape[1])
        # einsum rather than @: Debian's numpy links the reference BLAS, which is
        # about twice as slow as numpy's own loops here.
        x = np.einsum("ni,oi->no", x, weight * gain) + bias * LR_MULTIPLIER
        x = np.where(x >= 0, x, 0.2 * x) * np.sqrt(2.0)
    return x


def estimate_w_avg(tensors, num_layers, z_dim, samples=W_AVG_SAMPLES, seed=W_AVG_SEED):
    """Mean of mapping(z) over `samples` z ~ N(0, I) drawn by numpy's PCG64
    generator with `seed`, as float32. Deterministic for a given input."""
    rng = np.random.Generator(np.random.PCG64(seed))
    total = None
    done = 0
    while done < samples:
        n = min(1000, samples - done)
        w = mapping_forward(tensors, num_layers, rng.standard_normal((n, z_dim)))
        part = w.sum(axis=0)
        total = part if total is None else total + part
        done += n
    return (total / samples).astype(np.float32)
