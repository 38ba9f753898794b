#include "ops.h"

#include <ATen/ops/mkldnn_convolution.h>

#include <array>
#include <cmath>

namespace facemix::gan::ops {
namespace {


// The FIR as NVIDIA's upfirdn2d applies it: scaled by the gain, flipped (a true
// convolution), repeated for a depthwise conv over `channels`.
torch::Tensor depthwise_fir(const torch::Tensor& filter, double gain, int64_t channels) {
  torch::Tensor f = (filter * gain).flip({0, 1});
  return f.reshape({1, 1, f.size(0), f.size(1)}).repeat({channels, 1, 1, 1});
}

// Kernel taps of one axis of a polyphase part: {2, 0} for even outputs, {1}
// for odd ones (conv_transpose orientation -> correlation order); `flipped`
// gives {0, 2}, the order of the input-gradient correlation.
torch::Tensor taps(const torch::Tensor& w, int64_t dim, bool odd, bool flipped) {
  if (odd) return w.narrow(dim, 1, 1);
  torch::Tensor t = w.slice(dim, 0, 3, 2);  // {0, 2}
  return flipped ? t : t.flip({dim});
}

}  // namespace

torch::Tensor conv(const torch::Tensor& x, const torch::Tensor& w, int64_t pad_h, int64_t pad_w, int64_t groups) {
  const std::array<int64_t, 2> stride{1, 1}, padding{pad_h, pad_w}, dilation{1, 1};
  // LibTorch sends small inputs (< 20480 values, batch 1) to its generic-BLAS
  // conv, many times slower here than oneDNN; call oneDNN directly when no
  // gradient is recorded (the fused backward calls this too).
  const bool recording = torch::GradMode::is_enabled() && (x.requires_grad() || w.requires_grad());
  if (!recording && at::hasMKLDNN() && x.device().is_cpu() && x.scalar_type() == torch::kFloat32 &&
      w.scalar_type() == torch::kFloat32)
    return at::mkldnn_convolution(x.contiguous(x.suggest_memory_format()), w.contiguous(w.suggest_memory_format()),
                                  c10::nullopt, padding, stride, dilation, groups);
  return at::conv2d(x, w, c10::nullopt, stride, padding, dilation, groups);
}

torch::Tensor noise_bias_act(const torch::Tensor& x, const torch::Tensor& noise,
                             const torch::Tensor& bias, bool lrelu, double gain,
                             std::optional<double> clamp) {
  torch::Tensor y = noise.defined() ? x + noise : x;
  y = y + bias.reshape({1, -1, 1, 1});
  if (lrelu) y = torch::leaky_relu(y, 0.2);
  if (gain != 1.0) y = y * gain;
  if (clamp) y = y.clamp(-*clamp, *clamp);
  return y;
}

std::array<torch::Tensor, 4> subpixel_kernels(const torch::Tensor& w) {
  // y[2a+p] = sum over taps k with 2j + k = 2a + p of x[j] w[k] (per axis):
  //   even outputs (p = 0, a = 0..H): x[a-1] w[2] + x[a] w[0]  -> taps {2, 0}, pad 1
  //   odd outputs  (p = 1, a = 0..H-1): x[a] w[1]              -> tap {1}, no pad
  const int64_t last = w.dim() - 1;
  std::array<torch::Tensor, 4> k;
  for (int pr = 0; pr < 2; ++pr)
    for (int pc = 0; pc < 2; ++pc) k[2 * pr + pc] = taps(taps(w, last - 1, pr, false), last, pc, false).contiguous();
  return k;
}

std::array<torch::Tensor, 4> subpixel_grad_kernels(const torch::Tensor& w) {
  // Each part's input gradient is a 'valid' correlation of its output gradient
  // with the flipped taps ({0, 2} or {1}) and input/output channels swapped.
  const torch::Tensor wt = w.transpose(0, 1);  // [I, O, 3, 3]
  std::array<torch::Tensor, 4> k;
  for (int pr = 0; pr < 2; ++pr)
    for (int pc = 0; pc < 2; ++pc) k[2 * pr + pc] = taps(taps(wt, 2, pr, true), 3, pc, true).contiguous();
  return k;
}

std::array<torch::Tensor, 4> subpixel_convs(const torch::Tensor& x, const std::array<torch::Tensor, 4>& k,
                                            int64_t groups) {
  std::array<torch::Tensor, 4> out;
  for (int p = 0; p < 4; ++p) out[p] = conv(x, k[p], p < 2 ? 1 : 0, p % 2 == 0 ? 1 : 0, groups);
  return out;
}

torch::Tensor subpixel_convs_input_grad(const std::array<torch::Tensor, 4>& g, const std::array<torch::Tensor, 4>& k) {
  torch::Tensor gx;
  for (int p = 0; p < 4; ++p) {
    torch::Tensor t = conv(g[p], k[p], 0, 0, 1);
    gx = gx.defined() ? gx.add_(t) : t;
  }
  return gx;
}

torch::Tensor conv_transpose3x3_stride2(const torch::Tensor& x, const torch::Tensor& w, int64_t groups,
                                        int64_t border) {
  std::array<torch::Tensor, 4> k = subpixel_kernels(w);
  for (auto& t : k) t = t.reshape({-1, t.size(-3), t.size(-2), t.size(-1)});
  const auto p = subpixel_convs(x, k, groups);
  const int64_t H = p[3].size(2), W = p[3].size(3);
  torch::Tensor y = torch::zeros({p[0].size(0), p[0].size(1), 2 * H + 1 + 2 * border, 2 * W + 1 + 2 * border},
                                 x.options());
  for (int pr = 0; pr < 2; ++pr)
    for (int pc = 0; pc < 2; ++pc) {
      const torch::Tensor& v = p[2 * pr + pc];
      y.slice(2, border + pr, border + pr + 2 * v.size(2) - 1, 2)
          .slice(3, border + pc, border + pc + 2 * v.size(3) - 1, 2)
          .copy_(v);
    }
  return y;
}

torch::Tensor modulated_conv(const torch::Tensor& x, const torch::Tensor& weight,
                             const torch::Tensor& styles, bool demodulate, bool up,
                             const torch::Tensor& filter, ModConvPath path) {
  const int64_t N = x.size(0), I = weight.size(1), k = weight.size(2);
  const int64_t pad = k / 2;
  auto finish_up = [&](const torch::Tensor& t) {  // the zero border of 1 is there: FIR with gain 4, 'valid'
    return conv(t, depthwise_fir(filter, 4.0, t.size(1)), 0, 0, t.size(1));
  };

  if (path == ModConvPath::kGrouped) {
    torch::Tensor w = weight.unsqueeze(0) * styles.reshape({N, 1, -1, 1, 1});  // [N, O, I, k, k]
    if (demodulate) {
      torch::Tensor d = (w.square().sum({2, 3, 4}) + 1e-8).rsqrt();
      w = w * d.reshape({N, -1, 1, 1, 1});
    }
    torch::Tensor xg = x.reshape({1, -1, x.size(2), x.size(3)});
    torch::Tensor y;
    if (up) {
      // conv2d_resample transposes w to [I, O] per group for conv_transpose2d;
      // w[n, o, i] is already the i -> o kernel in that orientation.
      y = finish_up(conv_transpose3x3_stride2(xg, w, N, 1));
    } else {
      y = conv(xg, w.reshape({-1, I, k, k}), pad, pad, N);
    }
    return y.reshape({N, -1, y.size(2), y.size(3)});
  }

  // kScaled: scale activations, shared-weight conv, scale outputs.
  torch::Tensor xs = x * styles.reshape({N, -1, 1, 1});
  torch::Tensor y = up ? finish_up(conv_transpose3x3_stride2(xs, weight.unsqueeze(0), 1, 1))
                       : conv(xs, weight, pad, pad, 1);
  if (demodulate) {
    torch::Tensor w = weight.unsqueeze(0) * styles.reshape({N, 1, -1, 1, 1});
    torch::Tensor d = (w.square().sum({2, 3, 4}) + 1e-8).rsqrt();
    y = y * d.reshape({N, -1, 1, 1});
  }
  return y;
}

torch::Tensor upsample_2x(const torch::Tensor& x, const torch::Tensor& filter) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  torch::Tensor z = x.reshape({N, C, H, 1, W, 1});
  z = torch::constant_pad_nd(z, {0, 1, 0, 0, 0, 1}, 0).reshape({N, C, 2 * H, 2 * W});
  z = torch::constant_pad_nd(z, {2, 1, 2, 1}, 0);
  return conv(z, depthwise_fir(filter, 4.0, C), 0, 0, C);
}

}  // namespace facemix::gan::ops
