// w_avg and w_std of a generator, measured once per generator object.
#include <cmath>
#include <memory>
#include <string>
#include <mutex>
#include <utility>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <spdlog/spdlog.h>

#include "facemix/projector.h"

namespace facemix {
namespace {

constexpr int kWSamples = 10000;         // as NVIDIA's projector
constexpr uint64_t kWSampleSeed = 123;   // fixed, so every run measures the same w_std
constexpr int64_t kChunk = 2500;         // mapping batch, bounds memory

// The mapping MLP for a large batch through oneDNN's linear layer: Debian's
// LibTorch multiplies dense float matrices with the reference BLAS, which
// makes 10000 samples of an FFHQ mapping network take ~20 s; oneDNN takes ~1 s.
// Same maths as MappingNetwork (normalise z, fc layers with equalised-lr
// gains, lrelu * sqrt(2)); checked against Generator::mapping on a few samples
// before it is trusted.
torch::Tensor fast_mapping(const Generator& g, const torch::Tensor& z) {
  const auto& c = g->config();
  const auto params = g->named_parameters();
  torch::Tensor x = z * (z.square().mean(1, /*keepdim=*/true) + 1e-8).rsqrt();
  x = x.to_mkldnn();
  for (int i = 0; i < c.mapping_layers; ++i) {
    const std::string prefix = "mapping.fc" + std::to_string(i) + ".";
    const torch::Tensor& w = params[prefix + "weight"];
    const torch::Tensor& b = params[prefix + "bias"];
    const double weight_gain = c.mapping_lr_multiplier / std::sqrt(static_cast<double>(w.size(1)));
    torch::Tensor y = at::mkldnn_linear(x, (w * weight_gain).contiguous(), (b * c.mapping_lr_multiplier).contiguous());
    y = torch::leaky_relu(y.to_dense(), 0.2) * std::sqrt(2.0);
    x = i + 1 < c.mapping_layers ? y.to_mkldnn() : y;
  }
  return x;
}

// Mapped w of `z` ([n, z_dim]) on the CPU in float64, by the fast path when it
// agrees with the generator's own mapping.
torch::Tensor map_samples(const Generator& g, const torch::Tensor& z) {
  const torch::Device device = g->w_avg().device();
  bool fast = at::hasMKLDNN() && device.is_cpu();
  if (fast) {
    try {
      const torch::Tensor probe = z.narrow(0, 0, 64);
      const torch::Tensor ref = g->mapping(probe).select(1, 0);
      const double err = (fast_mapping(g, probe) - ref).abs().max().item<double>();
      fast = err <= 1e-4 * (1.0 + ref.abs().max().item<double>());
      if (!fast) spdlog::debug("w statistics: fast mapping differs by {:.3g}; using the generator's", err);
    } catch (const c10::Error& e) {
      spdlog::debug("w statistics: fast mapping unavailable ({})", e.what_without_backtrace());
      fast = false;
    }
  }
  if (fast) return fast_mapping(g, z).to(torch::kDouble);
  std::vector<torch::Tensor> ws;
  for (int64_t i = 0; i < z.size(0); i += kChunk) {
    const torch::Tensor zc = z.narrow(0, i, std::min<int64_t>(kChunk, z.size(0) - i)).to(device);
    ws.push_back(g->mapping(zc).select(1, 0).to(torch::kCPU, torch::kDouble));
  }
  return torch::cat(ws, 0);
}

double measure_w_std(const Generator& g) {
  torch::NoGradGuard no_grad;  // a measurement before any optimisation
  at::Generator gen = at::detail::createCPUGenerator(kWSampleSeed);
  const torch::Tensor z = torch::randn({kWSamples, g->config().z_dim}, gen, torch::kFloat32);
  const torch::Tensor w = map_samples(g, z);  // [10000, w_dim]
  const torch::Tensor centred = w - w.mean(0, /*keepdim=*/true);
  // NVIDIA: (sum((w - mean)^2) / n) ** 0.5 = sqrt(sum over dims of the variance).
  return std::sqrt(centred.square().sum().item<double>() / kWSamples);
}

}  // namespace

WStatistics w_statistics(const Generator& generator) {
  static std::mutex mutex;
  static std::vector<std::pair<std::weak_ptr<GeneratorImpl>, double>> cache;
  const std::shared_ptr<GeneratorImpl> key = generator.ptr();
  WStatistics s;
  s.w_avg = generator->w_avg().detach().clone();
  std::lock_guard<std::mutex> lock(mutex);
  for (auto it = cache.begin(); it != cache.end();) {
    const auto owner = it->first.lock();
    if (!owner) {
      it = cache.erase(it);
    } else if (owner == key) {
      s.w_std = it->second;
      return s;
    } else {
      ++it;
    }
  }
  s.w_std = measure_w_std(generator);
  cache.emplace_back(key, s.w_std);
  return s;
}

}  // namespace facemix
