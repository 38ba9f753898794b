// Private: the generator's submodules. Registered names follow NVIDIA's
// module tree, so named_parameters()/named_buffers() of a Generator are
// exactly NVIDIA's state-dict keys.
#pragma once

#include <optional>
#include <vector>

#include <torch/torch.h>

#include "facemix/generator.h"
#include "fused.h"

namespace facemix::gan {

// Equalised learning rate FC layer: weight stored unscaled, gain applied at run
// time (NVIDIA FullyConnectedLayer). `lrelu` selects lrelu * sqrt(2) after the bias.
class FullyConnectedImpl : public torch::nn::Module {
 public:
  FullyConnectedImpl(int in_features, int out_features, double lr_multiplier, bool lrelu);
  torch::Tensor forward(const torch::Tensor& x) const;
  void initialize_random(at::Generator& gen, float bias_init);

  torch::Tensor weight, bias;

 private:
  double weight_gain_, bias_gain_, lr_multiplier_;
  bool lrelu_;
};
TORCH_MODULE(FullyConnected);

class MappingNetworkImpl : public torch::nn::Module {
 public:
  explicit MappingNetworkImpl(const GeneratorConfig& config);
  // z [N, z_dim] -> w [N, w_dim] (before broadcast and truncation).
  torch::Tensor forward(const torch::Tensor& z) const;
  void initialize_random(at::Generator& gen);

  std::vector<FullyConnected> fcs;
  torch::Tensor w_avg;
};

// Modulated 3x3 conv (+ optional 2x up-sampling), noise, bias, lrelu * sqrt(2).
class SynthesisLayerImpl : public torch::nn::Module {
 public:
  SynthesisLayerImpl(int in_channels, int out_channels, int w_dim, int resolution, bool up,
                     std::optional<double> conv_clamp);
  // x [N, in, r', r'] (r' = r/2 when up), w [N, w_dim]; noise: unscaled map ([r, r] or
  // [N, 1, r, r]) or undefined for none.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& noise,
                        ModConvPath path) const;
  void initialize_random(at::Generator& gen);
  int resolution() const { return resolution_; }

  FullyConnected affine{nullptr};
  torch::Tensor weight, noise_strength, bias, resample_filter, noise_const;

 private:
  int in_channels_, out_channels_, resolution_;
  bool up_;
  std::optional<double> conv_clamp_;
  fused::LayerConstants constants_;  // views of the tensors above, for the fused path
};
TORCH_MODULE(SynthesisLayer);

// Modulated 1x1 conv without demodulation, + bias (NVIDIA ToRGBLayer).
class ToRGBLayerImpl : public torch::nn::Module {
 public:
  ToRGBLayerImpl(int in_channels, int img_channels, int w_dim, std::optional<double> conv_clamp);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& w, ModConvPath path) const;
  void initialize_random(at::Generator& gen);

  FullyConnected affine{nullptr};
  torch::Tensor weight, bias;

 private:
  int in_channels_;
  std::optional<double> conv_clamp_;
  fused::LayerConstants constants_;
};
TORCH_MODULE(ToRGBLayer);

// One resolution of the 'skip' synthesis network.
class SynthesisBlockImpl : public torch::nn::Module {
 public:
  SynthesisBlockImpl(const GeneratorConfig& config, int resolution);
  // rows: the ws rows this block reads (conv0?, conv1, torgb); noise: one
  // (possibly undefined) unscaled map per conv layer of the block.
  void forward(torch::Tensor& x, torch::Tensor& img, const std::vector<torch::Tensor>& rows,
               const std::vector<torch::Tensor>& noise, ModConvPath path) const;
  void initialize_random(at::Generator& gen);
  int resolution() const { return resolution_; }
  int num_conv() const { return resolution_ == 4 ? 1 : 2; }
  std::vector<const SynthesisLayerImpl*> conv_layers() const;

  torch::Tensor const_input, resample_filter;  // const_input only in b4
  SynthesisLayer conv0{nullptr}, conv1{nullptr};
  ToRGBLayer torgb{nullptr};

 private:
  int resolution_;
};
TORCH_MODULE(SynthesisBlock);

class SynthesisNetworkImpl : public torch::nn::Module {
 public:
  explicit SynthesisNetworkImpl(const GeneratorConfig& config);
  // ws [N, num_ws, w_dim] (validated by the caller).
  torch::Tensor forward(const torch::Tensor& ws, const SynthesisOptions& options) const;
  void initialize_random(at::Generator& gen);
  std::vector<NoiseLayer> noise_layers() const;
  std::vector<torch::Tensor> noise_const_buffers() const;

  std::vector<SynthesisBlock> blocks;

 private:
  GeneratorConfig config_;
};

// The [1, 3, 3, 1] outer-product filter NVIDIA's constructor stores (sums to 1).
torch::Tensor default_resample_filter();

}  // namespace facemix::gan
