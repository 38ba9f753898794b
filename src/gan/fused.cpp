// The fused modulated conv layer. Activations are channels-last (NHWC): oneDNN
// convolves that layout without reordering, and the elementwise kernels below
// run over contiguous channel vectors. The batch is processed one sample at a
// time with that sample's modulated kernels (no grouped conv, which would need
// NCHW); the backward batches all samples through the shared frozen kernels.
#include "fused.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "channel_sums.h"
#include "ops.h"
#include "upfir.h"

namespace facemix::gan::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

constexpr float kSlope = 0.2f;
const auto kChannelsLast = at::MemoryFormat::ChannelsLast;

// One sample: y = clamp(lrelu(out + noise + bias) * gain), the reference op
// order (x + noise, + bias, lrelu, * gain, clamp). out, y: [HW, C]; noise: [HW] or null.
void epilogue_forward(const float* out, float* y, const float* noise, const float* bias, int64_t HW, int64_t C,
                      float gain, std::optional<double> clamp) {
  const float lim = clamp ? static_cast<float>(*clamp) : 0.0f;
  at::parallel_for(0, HW, 64, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float* o = out + p * C;
      float* yy = y + p * C;
      const float nz = noise ? noise[p] : 0.0f;
      if (noise) {
        for (int64_t c = 0; c < C; ++c) {
          float t = o[c] + nz;
          t = t + bias[c];
          t = t > 0.0f ? t : t * kSlope;
          yy[c] = t * gain;
        }
      } else {
        for (int64_t c = 0; c < C; ++c) {
          float t = o[c] + bias[c];
          t = t > 0.0f ? t : t * kSlope;
          yy[c] = t * gain;
        }
      }
      if (clamp)
        for (int64_t c = 0; c < C; ++c) yy[c] = std::min(std::max(yy[c], -lim), lim);
    }
  });
}

struct EpilogueGrads {
  torch::Tensor h;        // gradient w.r.t. conv(x * s, W) = gpre * d   [N, C, H, W] channels-last
  torch::Tensor g_d;      // [N, C] or undefined
  torch::Tensor g_noise;  // [1 or N, 1, H, W] or undefined
};

// Backward of the epilogue and of the demodulation scale, one pass over
// (gy, y, out): gpre = gy * gain * lrelu'(y) (0 where clamped), h = gpre * d,
// g_d = sum_hw gpre * out / d (out = d * conv(x * s, W)), g_noise = sum_c gpre.
EpilogueGrads epilogue_backward(const torch::Tensor& gy, const torch::Tensor& y, const std::vector<torch::Tensor>& outs,
                                const torch::Tensor& d, float gain, std::optional<double> clamp,
                                int64_t noise_batch, bool need_d) {
  const int64_t N = y.size(0), C = y.size(1), HW = y.size(2) * y.size(3);
  EpilogueGrads r;
  r.h = torch::empty(y.sizes(), y.options().memory_format(kChannelsLast));
  if (need_d) r.g_d = torch::empty({N, C}, y.options());
  torch::Tensor noise_per_sample = noise_batch > 0 ? torch::empty({N, 1, y.size(2), y.size(3)}, y.options()) : torch::Tensor();
  const float lim = clamp ? static_cast<float>(*clamp) : 0.0f;
  for (int64_t n = 0; n < N; ++n) {
    const float* g = gy.data_ptr<float>() + n * HW * C;
    const float* yp = y.data_ptr<float>() + n * HW * C;
    const float* op = outs[n].data_ptr<float>();
    const float* dp = d.data_ptr<float>() + n * C;
    float* hp = r.h.data_ptr<float>() + n * HW * C;
    float* np = noise_batch > 0 ? noise_per_sample.data_ptr<float>() + n * HW : nullptr;
    ChannelSums sums(C);
    at::parallel_for(0, HW, 64, [&](int64_t begin, int64_t end) {
      double* acc = sums.mine();
      for (int64_t p = begin; p < end; ++p) {
        const float *gg = g + p * C, *yy = yp + p * C, *oo = op + p * C;
        float* hh = hp + p * C;
        float noise_acc = 0.0f;
        for (int64_t c = 0; c < C; ++c) {
          float t = gg[c] * gain;
          if (clamp && !(std::abs(yy[c]) < lim)) t = 0.0f;
          const float gpre = yy[c] > 0.0f ? t : t * kSlope;
          hh[c] = gpre * dp[c];
          acc[c] += static_cast<double>(gpre) * oo[c];
          noise_acc += gpre;
        }
        if (np) np[p] = noise_acc;
      }
    });
    if (need_d)
      for (int64_t c = 0; c < C; ++c) r.g_d.data_ptr<float>()[n * C + c] = static_cast<float>(sums.total(c) / dp[c]);
  }
  if (noise_batch > 0) r.g_noise = noise_batch == 1 ? noise_per_sample.sum(0, /*keepdim=*/true) : noise_per_sample;
  return r;
}

// g_x = g_xs * s[n, i] and g_s[n, i] = sum_hw g_xs * x, one pass (channels-last).
void modulation_backward(const torch::Tensor& g_xs, const torch::Tensor& x, const torch::Tensor& s, bool need_x,
                         torch::Tensor& g_x, torch::Tensor& g_s) {
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  if (need_x) g_x = torch::empty(x.sizes(), x.options().memory_format(kChannelsLast));
  g_s = torch::empty({N, C}, x.options());
  for (int64_t n = 0; n < N; ++n) {
    const float* g = g_xs.data_ptr<float>() + n * HW * C;
    const float* xp = x.data_ptr<float>() + n * HW * C;
    const float* sp = s.data_ptr<float>() + n * C;
    float* gx = need_x ? g_x.data_ptr<float>() + n * HW * C : nullptr;
    ChannelSums sums(C);
    at::parallel_for(0, HW, 64, [&](int64_t begin, int64_t end) {
      double* acc = sums.mine();
      for (int64_t p = begin; p < end; ++p) {
        const float *gg = g + p * C, *xx = xp + p * C;
        if (gx)
          for (int64_t c = 0; c < C; ++c) gx[p * C + c] = gg[c] * sp[c];
        for (int64_t c = 0; c < C; ++c) acc[c] += static_cast<double>(gg[c]) * xx[c];
      }
    });
    for (int64_t c = 0; c < C; ++c) g_s.data_ptr<float>()[n * C + c] = static_cast<float>(sums.total(c));
  }
}

// d[n,o] = rsqrt(sum_i s[n,i]^2 Wsq[o,i] + 1e-8): NVIDIA's demodulation (sum
// over i and the taps of (W s)^2) with the tap sum precomputed.
torch::Tensor demodulation(const torch::Tensor& s, const DerivedKernels& k) {
  return (torch::matmul(s.square(), k.wsq.t()) + 1e-8).rsqrt();
}

// kernel[o, :, :, i] * s[i] * d[o] for a channels-last kernel [O, I, kh, kw]
// (memory O, kh, kw, I), written channels-last: the layout oneDNN wants for
// channels-last activations (LibTorch would otherwise convert it every call).
torch::Tensor modulate(const torch::Tensor& kernel, const torch::Tensor& s, const torch::Tensor& d) {
  const int64_t O = kernel.size(0), I = kernel.size(1), taps = kernel.size(2) * kernel.size(3);
  torch::Tensor out = torch::empty(kernel.sizes(), kernel.options().memory_format(kChannelsLast));
  const float *kp = kernel.data_ptr<float>(), *sp = s.data_ptr<float>(), *dp = d.data_ptr<float>();
  float* op = out.data_ptr<float>();
  at::parallel_for(0, O, 16, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o)
      for (int64_t t = 0; t < taps; ++t) {
        const float* src = kp + (o * taps + t) * I;
        float* dst = op + (o * taps + t) * I;
        for (int64_t i = 0; i < I; ++i) dst[i] = src[i] * (sp[i] * dp[o]);
      }
  });
  return out;
}

// One sample's modulated conv, kernel * s[i] * d[o]: x [1, I, h, w] channels-last
// -> [1, O, H, W] channels-last.
torch::Tensor modulated_conv_sample(const torch::Tensor& x, const torch::Tensor& s, const torch::Tensor& d,
                                    const LayerConstants& c, const DerivedKernels& k) {
  if (c.up) {
    std::array<torch::Tensor, 4> parts;
    for (int p = 0; p < 4; ++p) parts[p] = modulate(k.parts[p], s, d);
    return upfir::forward(ops::subpixel_convs(x, parts, 1));
  }
  const int64_t pad = c.weight.size(2) / 2;
  return ops::conv(x, modulate(k.kernel, s, d), pad, pad, 1).contiguous(kChannelsLast);
}

// Forward of a whole batch: y (channels-last) and the per-sample conv outputs.
torch::Tensor layer_forward(const torch::Tensor& x, const torch::Tensor& s, const torch::Tensor& d,
                            const torch::Tensor& noise, const LayerConstants& c, const DerivedKernels& k,
                            std::vector<torch::Tensor>* outs) {
  const int64_t N = x.size(0);
  torch::Tensor y;
  for (int64_t n = 0; n < N; ++n) {
    torch::Tensor out = modulated_conv_sample(x.narrow(0, n, 1), s[n], d[n], c, k);
    const int64_t C = out.size(1), HW = out.size(2) * out.size(3);
    if (!y.defined()) y = torch::empty({N, C, out.size(2), out.size(3)}, out.options().memory_format(kChannelsLast));
    const float* np = noise.defined() ? noise.data_ptr<float>() + (noise.size(0) == 1 ? 0 : n) * HW : nullptr;
    epilogue_forward(out.data_ptr<float>(), y.data_ptr<float>() + n * C * HW, np, c.bias.data_ptr<float>(), HW, C,
                     static_cast<float>(c.gain), c.clamp);
    if (outs) outs->push_back(out);
  }
  return y;
}

// The autograd node keeps everything its backward needs as saved tensors and
// scalars (no pointer back into the module, which may be gone by then).
class ModulatedLayerFn : public torch::autograd::Function<ModulatedLayerFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor s, torch::Tensor noise,
                               const LayerConstants* c) {
    x = x.contiguous(kChannelsLast);
    s = s.contiguous();
    if (noise.defined()) noise = noise.contiguous();
    const auto k = c->derived();
    const torch::Tensor d = demodulation(s, *k);
    std::vector<torch::Tensor> outs;
    torch::Tensor y = layer_forward(x, s, d, noise, *c, *k, &outs);
    std::vector<torch::Tensor> saved{x, s, d, y, k->wsq};
    if (c->up) saved.insert(saved.end(), k->parts_grad.begin(), k->parts_grad.end());
    else saved.push_back(k->grad_kernel);
    saved.insert(saved.end(), outs.begin(), outs.end());
    ctx->save_for_backward(saved);
    ctx->saved_data["up"] = c->up;
    ctx->saved_data["gain"] = c->gain;
    ctx->saved_data["clamp"] = c->clamp ? *c->clamp : -1.0;
    ctx->saved_data["noise_batch"] = noise.defined() ? noise.size(0) : int64_t{0};
    return y;
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const bool up = ctx->saved_data["up"].toBool();
    const float gain = static_cast<float>(ctx->saved_data["gain"].toDouble());
    const double clamp_value = ctx->saved_data["clamp"].toDouble();
    const std::optional<double> clamp = clamp_value >= 0 ? std::optional<double>(clamp_value) : std::nullopt;
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &s = saved[1], &d = saved[2], &y = saved[3], &wsq = saved[4];
    const size_t first_out = up ? 9 : 6;
    const std::vector<torch::Tensor> outs(saved.begin() + first_out, saved.end());
    const bool need_x = ctx->needs_input_grad(0), need_s = ctx->needs_input_grad(1),
               need_noise = ctx->needs_input_grad(2);
    const int64_t noise_batch = need_noise ? ctx->saved_data["noise_batch"].toInt() : 0;

    EpilogueGrads e = epilogue_backward(grads[0].contiguous(kChannelsLast), y, outs, d, gain, clamp, noise_batch,
                                        need_s);
    torch::Tensor g_x, g_s;
    if (need_x || need_s) {
      torch::Tensor g_xs;
      if (up) {
        g_xs = ops::subpixel_convs_input_grad(upfir::backward(e.h), {saved[5], saved[6], saved[7], saved[8]});
      } else {
        const torch::Tensor& kernel = saved[5];
        const int64_t pad = kernel.size(2) - 1 - kernel.size(2) / 2;
        g_xs = ops::conv(e.h, kernel, pad, pad, 1);
      }
      modulation_backward(g_xs.contiguous(kChannelsLast), x, s, need_x, g_x, g_s);
      // d[n,o] = (sum_i s[n,i]^2 Wsq[o,i] + eps)^-1/2  =>  dd[n,o]/ds[n,i] = -d^3 s[n,i] Wsq[o,i].
      if (need_s) g_s = g_s - s * torch::matmul(e.g_d * d.pow(3), wsq);
    }
    return {g_x, need_s ? g_s : torch::Tensor(), e.g_noise, torch::Tensor()};
  }
};

}  // namespace

std::shared_ptr<const DerivedKernels> LayerConstants::derived() const {
  std::lock_guard<std::mutex> lock(*mutex_);
  if (derived_ && derived_->key == weight.data_ptr()) return derived_;
  // Ordinary, non-differentiable tensors even when first needed under InferenceMode.
  c10::InferenceMode not_inference(false);
  torch::NoGradGuard no_grad;
  auto k = std::make_shared<DerivedKernels>();
  k->key = weight.data_ptr();
  k->wsq = weight.square().sum({2, 3}).contiguous();
  if (up) {
    k->parts = ops::subpixel_kernels(weight);
    k->parts_grad = ops::subpixel_grad_kernels(weight);
    for (auto& t : k->parts) t = t.contiguous(kChannelsLast);
    for (auto& t : k->parts_grad) t = t.contiguous(kChannelsLast);
  } else {
    k->kernel = weight.contiguous(kChannelsLast);
    k->grad_kernel = weight.transpose(0, 1).flip({2, 3}).contiguous(kChannelsLast);
  }
  derived_ = k;
  return derived_;
}

torch::Tensor modulated_layer(const torch::Tensor& x, const torch::Tensor& s, const torch::Tensor& noise,
                              const LayerConstants& c) {
  const bool grad = torch::GradMode::is_enabled() &&
                    (x.requires_grad() || s.requires_grad() || (noise.defined() && noise.requires_grad()));
  if (!grad) {
    const auto k = c.derived();
    const torch::Tensor sc = s.contiguous();
    return layer_forward(x.contiguous(kChannelsLast), sc, demodulation(sc, *k),
                         noise.defined() ? noise.contiguous() : noise, c, *k, nullptr);
  }
  return ModulatedLayerFn::apply(x, s, noise, &c);
}

}  // namespace facemix::gan::fused
