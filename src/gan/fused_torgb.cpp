// The fused ToRGB layer (ModConvPath::kFused): a 1x1 modulated conv without
// demodulation on channels-last activations, with a custom backward that
// never differentiates the frozen weight.
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "channel_sums.h"
#include "fused.h"
#include "ops.h"

namespace facemix::gan::fused {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

const auto kChannelsLast = at::MemoryFormat::ChannelsLast;

// ToRGB forward: y = conv1x1(x, W * s) + bias (+ clamp), NCHW result.
torch::Tensor torgb_forward(const torch::Tensor& x, const torch::Tensor& s, const LayerConstants& c) {
  const int64_t N = x.size(0);
  std::vector<torch::Tensor> ys;
  for (int64_t n = 0; n < N; ++n)
    ys.push_back(ops::conv(x.narrow(0, n, 1), c.weight * s[n].reshape({1, -1, 1, 1}), 0, 0, 1));
  torch::Tensor y = torch::cat(ys, 0).contiguous() + c.bias.reshape({1, -1, 1, 1});
  return c.clamp ? y.clamp(-*c.clamp, *c.clamp) : y;
}

class ToRGBFn : public torch::autograd::Function<ToRGBFn> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor x, torch::Tensor s, const LayerConstants* c) {
    x = x.contiguous(kChannelsLast);
    s = s.contiguous();
    torch::Tensor y = torgb_forward(x, s, *c);
    ctx->save_for_backward({x, s, c->weight, c->clamp ? y : torch::Tensor()});
    ctx->saved_data["clamp"] = c->clamp ? *c->clamp : -1.0;
    return y;
  }

  // Per pixel p: g_x[p, i] = s[i] sum_r W[r, i] g[r, p];  g_s[i] = sum_r W[r, i] sum_p g[r, p] x[p, i].
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &s = saved[1], &weight = saved[2];
    const double clamp = ctx->saved_data["clamp"].toDouble();
    torch::Tensor g = grads[0].contiguous();  // NCHW [N, R, H, W]
    if (clamp >= 0) g = (g * (saved[3].abs() < clamp)).contiguous();
    const int64_t N = x.size(0), I = x.size(1), HW = x.size(2) * x.size(3), R = weight.size(0);
    const bool need_x = ctx->needs_input_grad(0), need_s = ctx->needs_input_grad(1);
    torch::Tensor g_x = need_x ? torch::empty(x.sizes(), x.options().memory_format(kChannelsLast)) : torch::Tensor();
    torch::Tensor g_s = torch::empty({N, I}, x.options());
    const torch::Tensor w = weight.reshape({R, I}).contiguous();
    const float* wp = w.data_ptr<float>();
    for (int64_t n = 0; n < N; ++n) {
      const float* xp = x.data_ptr<float>() + n * HW * I;
      const float* gp = g.data_ptr<float>() + n * R * HW;
      const float* sp = s.data_ptr<float>() + n * I;
      float* gx = need_x ? g_x.data_ptr<float>() + n * HW * I : nullptr;
      std::vector<float> ws(R * I);  // W[r, i] * s[i]
      for (int64_t r = 0; r < R; ++r)
        for (int64_t i = 0; i < I; ++i) ws[r * I + i] = wp[r * I + i] * sp[i];
      ChannelSums sums(R * I);
      at::parallel_for(0, HW, 64, [&](int64_t begin, int64_t end) {
        double* acc = sums.mine();
        for (int64_t p = begin; p < end; ++p) {
          const float* xx = xp + p * I;
          for (int64_t r = 0; r < R; ++r) {
            const float gr = gp[r * HW + p];
            for (int64_t i = 0; i < I; ++i) acc[r * I + i] += static_cast<double>(gr) * xx[i];
          }
          if (gx) {
            float* dst = gx + p * I;
            std::fill_n(dst, I, 0.0f);
            for (int64_t r = 0; r < R; ++r) {
              const float gr = gp[r * HW + p];
              for (int64_t i = 0; i < I; ++i) dst[i] += gr * ws[r * I + i];
            }
          }
        }
      });
      for (int64_t i = 0; i < I; ++i) {
        double v = 0.0;
        for (int64_t r = 0; r < R; ++r) v += wp[r * I + i] * sums.total(r * I + i);
        g_s.data_ptr<float>()[n * I + i] = static_cast<float>(v);
      }
    }
    return {g_x, need_s ? g_s : torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor torgb_layer(const torch::Tensor& x, const torch::Tensor& s, const LayerConstants& c) {
  const bool grad = torch::GradMode::is_enabled() && (x.requires_grad() || s.requires_grad());
  if (!grad) return torgb_forward(x.contiguous(kChannelsLast), s.contiguous(), c);
  return ToRGBFn::apply(x, s, &c);
}

}  // namespace facemix::gan::fused
