#include "facemix/generator.h"

#include <sstream>

#include <ATen/CPUGeneratorImpl.h>

#include "facemix/errors.h"
#include "modules.h"

namespace facemix {
namespace {

std::string shape_str(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

}  // namespace

NoiseMode parse_noise_mode(const std::string& name) {
  if (name == "const") return NoiseMode::kConst;
  if (name == "random") return NoiseMode::kRandom;
  if (name == "none") return NoiseMode::kNone;
  throw UsageError("noise mode '" + name + "' is not one of const, random, none");
}

std::string to_string(NoiseMode mode) {
  switch (mode) {
    case NoiseMode::kConst: return "const";
    case NoiseMode::kRandom: return "random";
    case NoiseMode::kNone: return "none";
  }
  return "?";
}

GeneratorImpl::GeneratorImpl(const GeneratorConfig& config) : config_(config) {
  const int R = config.img_resolution;
  if (R < 4 || R > 1024 || (R & (R - 1)) != 0 || config.channel_base < R || config.z_dim < 1 ||
      config.w_dim < 1 || config.mapping_layers < 1 || config.img_channels < 1 || config.channel_max < 1)
    throw ModelError("generator config out of range: " + config.to_json());
  // NVIDIA's state dict lists synthesis.* before mapping.*.
  synthesis_ = register_module("synthesis", std::make_shared<gan::SynthesisNetworkImpl>(config));
  mapping_ = register_module("mapping", std::make_shared<gan::MappingNetworkImpl>(config));
}

int64_t GeneratorImpl::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

void GeneratorImpl::initialize_random(uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  synthesis_->initialize_random(gen);
  mapping_->initialize_random(gen);
}

torch::Tensor GeneratorImpl::truncate(const torch::Tensor& ws, double psi, int truncation_cutoff) const {
  if (psi == 1.0) return ws;
  const torch::Tensor& avg = mapping_->w_avg;
  if (truncation_cutoff < 0 || ws.dim() == 2) return torch::lerp(avg, ws, psi);
  const int64_t cut = std::min<int64_t>(truncation_cutoff, ws.size(1));
  torch::Tensor head = torch::lerp(avg, ws.narrow(1, 0, cut), psi);
  return torch::cat({head, ws.narrow(1, cut, ws.size(1) - cut)}, 1);
}

torch::Tensor GeneratorImpl::mapping(const torch::Tensor& z, double psi, int truncation_cutoff) const {
  if (z.dim() != 2 || z.size(1) != config_.z_dim)
    throw UsageError("mapping: z must be [N, " + std::to_string(config_.z_dim) + "], got " + shape_str(z));
  torch::Tensor w = mapping_->forward(z.to(torch::kFloat32));
  torch::Tensor ws = w.unsqueeze(1).repeat({1, config_.num_ws(), 1});
  return truncate(ws, psi, truncation_cutoff);
}

torch::Tensor GeneratorImpl::synthesis(const torch::Tensor& ws_in, const SynthesisOptions& options) const {
  const int num_ws = config_.num_ws();
  torch::Tensor ws = ws_in;
  if (ws.dim() == 2 && ws.size(1) == config_.w_dim) ws = ws.unsqueeze(1).expand({-1, num_ws, -1});
  if (ws.dim() != 3 || ws.size(1) != num_ws || ws.size(2) != config_.w_dim || ws.size(0) < 1)
    throw UsageError("synthesis: ws must be [N, " + std::to_string(num_ws) + ", " +
                     std::to_string(config_.w_dim) + "] or [N, " + std::to_string(config_.w_dim) +
                     "], got " + shape_str(ws_in));
  if (ws.scalar_type() != torch::kFloat32) ws = ws.to(torch::kFloat32);

  if (options.modconv == ModConvPath::kFused && !ws.device().is_cpu())
    throw UsageError("synthesis: ModConvPath::kFused runs on the CPU only");
  if (options.stop_at_resolution != 0) {
    const int r = options.stop_at_resolution;
    if (r < 4 || r > config_.img_resolution || (r & (r - 1)) != 0)
      throw UsageError("synthesis: stop_at_resolution " + std::to_string(r) +
                       " is not a block resolution of this " + std::to_string(config_.img_resolution) +
                       " px generator");
  }
  if (!options.noise.empty()) {
    const auto layers = noise_layers();
    if (options.noise_mode != NoiseMode::kConst)
      throw UsageError("synthesis: explicit noise maps need noise mode const");
    if (options.noise.size() != layers.size())
      throw UsageError("synthesis: " + std::to_string(options.noise.size()) + " noise maps given, the network has " +
                       std::to_string(layers.size()) + " noise inputs");
    for (size_t i = 0; i < layers.size(); ++i) {
      const torch::Tensor& t = options.noise[i];
      const int64_t r = layers[i].resolution;
      const bool ok = t.defined() && ((t.dim() == 2 && t.size(0) == r && t.size(1) == r) ||
                                      (t.dim() == 4 && (t.size(0) == ws.size(0) || t.size(0) == 1) &&
                                       t.size(1) == 1 && t.size(2) == r && t.size(3) == r));
      if (!ok)
        throw UsageError("synthesis: noise map for " + layers[i].name + " must be [" + std::to_string(r) + ", " +
                         std::to_string(r) + "] or [N, 1, " + std::to_string(r) + ", " + std::to_string(r) +
                         "], got " + (t.defined() ? shape_str(t) : std::string("undefined")));
    }
  }
  return synthesis_->forward(ws, options);
}

torch::Tensor GeneratorImpl::forward(const torch::Tensor& z, double psi, NoiseMode noise_mode) const {
  SynthesisOptions o;
  o.noise_mode = noise_mode;
  return synthesis(mapping(z, psi), o);
}

torch::Tensor GeneratorImpl::w_avg() const { return mapping_->w_avg; }

std::vector<NoiseLayer> GeneratorImpl::noise_layers() const { return synthesis_->noise_layers(); }

std::vector<torch::Tensor> GeneratorImpl::noise_const_buffers() const {
  return synthesis_->noise_const_buffers();
}

torch::Tensor z_from_seed(uint64_t seed, int z_dim) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return torch::randn({1, z_dim}, gen, torch::TensorOptions().dtype(torch::kFloat32));
}

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda" || name.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      throw UsageError("--device " + name +
                       ": this facemix links a LibTorch without CUDA support (or no CUDA device is "
                       "visible); use --device cpu, or rebuild against a CUDA LibTorch "
                       "(CMAKE_PREFIX_PATH)");
    try {
      torch::Device d(name);
      if (d.has_index() && d.index() >= static_cast<int>(torch::cuda::device_count()))
        throw UsageError("--device " + name + ": no such CUDA device");
      return d;
    } catch (const c10::Error&) {
      throw UsageError("--device " + name + ": not a valid device name");
    }
  }
  throw UsageError("--device " + name + ": expected cpu or cuda");
}

}  // namespace facemix
