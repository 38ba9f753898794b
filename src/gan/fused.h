// Private: the fused synthesis layers (ModConvPath::kFused).
//
// Forward: per-sample modulated + demodulated weights with the batch folded
// into conv groups (NVIDIA's fused path); the up-sampling conv as four
// sub-pixel convs and a direct FIR (upfir.h); then one pass for noise + bias +
// lrelu * gain (+ clamp). The demodulation coefficients come from the cached
// per-(o, i) kernel energies, d = rsqrt(s^2 . Wsq + 1e-8).
// Backward (custom autograd nodes): the non-fused formulation
//   out = d[n,o] * conv(x * s[n,i], W),
// so the frozen weight W never needs a gradient: one data-gradient conv per
// layer plus two fused elementwise passes, and only x, out and y are kept.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <optional>

#include <torch/torch.h>

namespace facemix::gan::fused {

// Kernels derived from a layer's frozen weight, computed once per weight storage.
struct DerivedKernels {
  const void* key = nullptr;              // weight.data_ptr() they were made from
  torch::Tensor wsq;                      // [O, I]: sum over the taps of W^2
  std::array<torch::Tensor, 4> parts;     // up: sub-pixel kernels EE, EO, OE, OO [O, I, r, c]
  std::array<torch::Tensor, 4> parts_grad;  // up: their input-gradient kernels [I, O, r, c]
  torch::Tensor kernel;                   // no up: W, channels-last
  torch::Tensor grad_kernel;              // no up: W transposed and flipped [I, O, k, k]
  // (all kernels are stored channels-last, the layout oneDNN uses with NHWC activations)
};

struct LayerConstants {
  torch::Tensor weight;  // [O, I, k, k], k odd (3 for synthesis layers; 1 for ToRGB)
  torch::Tensor bias;    // [O]
  bool up = false;       // stride-2 transposed conv + FIR (NVIDIA conv0)
  double gain = 1.0;     // applied after the activation
  std::optional<double> clamp;

  // Thread-safe; recomputed when the weight storage changes (loading, to()).
  std::shared_ptr<const DerivedKernels> derived() const;

 private:
  std::shared_ptr<std::mutex> mutex_ = std::make_shared<std::mutex>();
  mutable std::shared_ptr<const DerivedKernels> derived_;
};

// x [N, I, h, w]; s [N, I] styles; noise: undefined, or already scaled by
// noise_strength and shaped [1 or N, 1, H, W]. Differentiable w.r.t. x, s, noise.
torch::Tensor modulated_layer(const torch::Tensor& x, const torch::Tensor& s, const torch::Tensor& noise,
                              const LayerConstants& c);

// ToRGB: 1x1 modulated conv without demodulation, + bias (+ clamp).
// x [N, C, H, W]; s [N, C] (styles already times 1/sqrt(C)). Differentiable w.r.t. x, s.
torch::Tensor torgb_layer(const torch::Tensor& x, const torch::Tensor& s, const LayerConstants& c);

}  // namespace facemix::gan::fused
