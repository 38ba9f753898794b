// FullyConnected, MappingNetwork, SynthesisLayer and ToRGBLayer.
#include <cmath>

#include "modules.h"
#include "ops.h"

namespace facemix::gan {
namespace {

const double kSqrt2 = std::sqrt(2.0);  // NVIDIA's lrelu def_gain (np.sqrt(2))

torch::Tensor empty_weight(std::initializer_list<int64_t> shape) {
  return torch::empty(shape, torch::kFloat32);
}

}  // namespace

torch::Tensor default_resample_filter() {
  torch::Tensor f = torch::tensor({1.0f, 3.0f, 3.0f, 1.0f});
  torch::Tensor f2 = f.unsqueeze(1) * f.unsqueeze(0);
  return f2 / f2.sum();
}

// --- FullyConnected ----------------------------------------------------------

FullyConnectedImpl::FullyConnectedImpl(int in_features, int out_features, double lr_multiplier, bool lrelu)
    : weight_gain_(lr_multiplier / std::sqrt(static_cast<double>(in_features))),
      bias_gain_(lr_multiplier),
      lr_multiplier_(lr_multiplier),
      lrelu_(lrelu) {
  weight = register_parameter("weight", empty_weight({out_features, in_features}), false);
  bias = register_parameter("bias", empty_weight({out_features}), false);
}

torch::Tensor FullyConnectedImpl::forward(const torch::Tensor& x) const {
  torch::Tensor w = weight * weight_gain_;
  torch::Tensor b = bias_gain_ != 1.0 ? bias * bias_gain_ : bias;
  if (!lrelu_) return torch::addmm(b.unsqueeze(0), x, w.t());
  torch::Tensor y = x.matmul(w.t());
  y = y + b.reshape({1, -1});
  return torch::leaky_relu(y, 0.2) * kSqrt2;
}

void FullyConnectedImpl::initialize_random(at::Generator& gen, float bias_init) {
  torch::NoGradGuard no_grad;
  weight.normal_(0.0, 1.0, gen).div_(lr_multiplier_);
  bias.fill_(bias_init);
}

// --- MappingNetwork ----------------------------------------------------------

MappingNetworkImpl::MappingNetworkImpl(const GeneratorConfig& c) {
  const int hidden = c.hidden_features();
  for (int i = 0; i < c.mapping_layers; ++i) {
    const int in = i == 0 ? c.z_dim : hidden;
    const int out = i == c.mapping_layers - 1 ? c.w_dim : hidden;
    fcs.push_back(register_module("fc" + std::to_string(i),
                                  FullyConnected(in, out, c.mapping_lr_multiplier, true)));
  }
  w_avg = register_buffer("w_avg", empty_weight({c.w_dim}));
}

torch::Tensor MappingNetworkImpl::forward(const torch::Tensor& z) const {
  // normalize_2nd_moment
  torch::Tensor x = z * (z.square().mean(1, /*keepdim=*/true) + 1e-8).rsqrt();
  for (const auto& fc : fcs) x = fc->forward(x);
  return x;
}

void MappingNetworkImpl::initialize_random(at::Generator& gen) {
  for (auto& fc : fcs) fc->initialize_random(gen, 0.0f);
  torch::NoGradGuard no_grad;
  w_avg.zero_();
}

// --- SynthesisLayer ----------------------------------------------------------

SynthesisLayerImpl::SynthesisLayerImpl(int in_channels, int out_channels, int w_dim, int resolution,
                                       bool up, std::optional<double> conv_clamp)
    : in_channels_(in_channels),
      out_channels_(out_channels),
      resolution_(resolution),
      up_(up),
      conv_clamp_(conv_clamp) {
  // Registration order = NVIDIA's state-dict order: parameters, buffers, submodules.
  weight = register_parameter("weight", empty_weight({out_channels, in_channels, 3, 3}), false);
  noise_strength = register_parameter("noise_strength", torch::empty({}, torch::kFloat32), false);
  bias = register_parameter("bias", empty_weight({out_channels}), false);
  resample_filter = register_buffer("resample_filter", empty_weight({4, 4}));
  noise_const = register_buffer("noise_const", empty_weight({resolution, resolution}));
  affine = register_module("affine", FullyConnected(w_dim, in_channels, 1.0, false));
  // Tensor handles share their TensorImpl with the registered ones, so loading
  // (set_data) and Module::to() keep them current.
  constants_.weight = weight;
  constants_.bias = bias;
  constants_.up = up;
  constants_.gain = kSqrt2;
  constants_.clamp = conv_clamp;
}

torch::Tensor SynthesisLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& w,
                                          const torch::Tensor& noise, ModConvPath path) const {
  torch::Tensor styles = affine->forward(w);
  torch::Tensor scaled_noise = noise.defined() ? noise * noise_strength : torch::Tensor();
  if (path == ModConvPath::kFused) {
    if (scaled_noise.defined() && scaled_noise.dim() == 2)
      scaled_noise = scaled_noise.reshape({1, 1, scaled_noise.size(0), scaled_noise.size(1)});
    return fused::modulated_layer(x, styles, scaled_noise, constants_);
  }
  torch::Tensor y = ops::modulated_conv(x, weight, styles, /*demodulate=*/true, up_, resample_filter, path);
  return ops::noise_bias_act(y, scaled_noise, bias, /*lrelu=*/true, kSqrt2, conv_clamp_);
}

void SynthesisLayerImpl::initialize_random(at::Generator& gen) {
  affine->initialize_random(gen, 1.0f);
  torch::NoGradGuard no_grad;
  weight.normal_(0.0, 1.0, gen);
  noise_strength.zero_();
  bias.zero_();
  resample_filter.copy_(default_resample_filter());
  noise_const.normal_(0.0, 1.0, gen);
}

// --- ToRGBLayer --------------------------------------------------------------

ToRGBLayerImpl::ToRGBLayerImpl(int in_channels, int img_channels, int w_dim,
                               std::optional<double> conv_clamp)
    : in_channels_(in_channels), conv_clamp_(conv_clamp) {
  weight = register_parameter("weight", empty_weight({img_channels, in_channels, 1, 1}), false);
  bias = register_parameter("bias", empty_weight({img_channels}), false);
  affine = register_module("affine", FullyConnected(w_dim, in_channels, 1.0, false));
  constants_.weight = weight;
  constants_.bias = bias;
  constants_.clamp = conv_clamp;
}

torch::Tensor ToRGBLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& w, ModConvPath path) const {
  // The 1/sqrt(fan_in) gain multiplies the styles (not divides), as NVIDIA.
  const double weight_gain = 1.0 / std::sqrt(static_cast<double>(in_channels_));
  torch::Tensor styles = affine->forward(w) * weight_gain;
  if (path == ModConvPath::kFused) return fused::torgb_layer(x, styles, constants_);
  torch::Tensor y = ops::modulated_conv(x, weight, styles, /*demodulate=*/false, /*up=*/false,
                                        torch::Tensor(), ModConvPath::kGrouped);
  return ops::noise_bias_act(y, torch::Tensor(), bias, /*lrelu=*/false, 1.0, conv_clamp_);
}

void ToRGBLayerImpl::initialize_random(at::Generator& gen) {
  affine->initialize_random(gen, 1.0f);
  torch::NoGradGuard no_grad;
  weight.normal_(0.0, 1.0, gen);
  bias.zero_();
}

}  // namespace facemix::gan
