// IdentityNet: dlib's face recognition ResNet v1 as LibTorch modules.
#include <torch/torch.h>

#include "facemix/identity.h"
#include "identity/modules.h"

namespace F = torch::nn::functional;

namespace facemix {
namespace identity {
namespace {

torch::Tensor empty_parameter(std::vector<int64_t> shape) { return torch::zeros(shape, torch::kFloat32); }

}  // namespace

ConvLayerImpl::ConvLayerImpl(int in_channels, int out_channels, int kernel, int stride)
    : stride_(stride), padding_(stride == 1 ? kernel / 2 : 0) {
  auto conv = register_module("conv", std::make_shared<torch::nn::Module>());
  conv_weight_ = conv->register_parameter("weight", empty_parameter({out_channels, in_channels, kernel, kernel}), false);
  conv_bias_ = conv->register_parameter("bias", empty_parameter({out_channels}), false);
  auto scale = register_module("scale", std::make_shared<torch::nn::Module>());
  scale_weight_ = scale->register_parameter("weight", empty_parameter({out_channels}), false);
  scale_bias_ = scale->register_parameter("bias", empty_parameter({out_channels}), false);
}

torch::Tensor ConvLayerImpl::forward(const torch::Tensor& x) {
  // (conv(x) + b) * s + t, folded into one conv: weight * s, bias * s + t.
  const torch::Tensor w = conv_weight_ * scale_weight_.view({-1, 1, 1, 1});
  const torch::Tensor b = conv_bias_ * scale_weight_ + scale_bias_;
  return F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).stride(stride_).padding(padding_));
}

ResidualBlockImpl::ResidualBlockImpl(int in_channels, int out_channels, bool down) : down_(down) {
  conv1_ = register_module("conv1", std::make_shared<ConvLayerImpl>(in_channels, out_channels, 3, down ? 2 : 1));
  conv2_ = register_module("conv2", std::make_shared<ConvLayerImpl>(out_channels, out_channels, 3, 1));
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor r = conv2_->forward(torch::relu(conv1_->forward(x)));
  if (!down_) return torch::relu(r + x);
  torch::Tensor shortcut = F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(2));
  const int64_t extra_channels = r.size(1) - shortcut.size(1);
  if (extra_channels > 0) shortcut = F::pad(shortcut, F::PadFuncOptions({0, 0, 0, 0, 0, extra_channels}));
  const int64_t extra_rows = shortcut.size(2) - r.size(2), extra_cols = shortcut.size(3) - r.size(3);
  if (extra_rows > 0 || extra_cols > 0)
    r = F::pad(r, F::PadFuncOptions({0, std::max<int64_t>(extra_cols, 0), 0, std::max<int64_t>(extra_rows, 0)}));
  return torch::relu(r + shortcut);
}

}  // namespace identity

namespace {

struct BlockSpec {
  const char* name;
  int channels;
  bool down;
};

// The residual blocks in network order (the weight files name them so).
constexpr BlockSpec kBlocks[] = {
    {"conv32_1", 32, false},  {"conv32_2", 32, false},     {"conv32_3", 32, false},
    {"conv64_down", 64, true}, {"conv64_1", 64, false},    {"conv64_2", 64, false},
    {"conv64_3", 64, false},  {"conv128_down", 128, true}, {"conv128_1", 128, false},
    {"conv128_2", 128, false}, {"conv256_down", 256, true}, {"conv256_1", 256, false},
    {"conv256_2", 256, false}, {"conv256_down_out", 256, true}};

}  // namespace

IdentityNetImpl::IdentityNetImpl(IdentityNormalisation normalisation) : normalisation_(normalisation) {
  stem_ = register_module("conv32_down", std::make_shared<identity::ConvLayerImpl>(3, 32, 7, 2));
  int in = 32;
  for (const BlockSpec& b : kBlocks) {
    blocks_.push_back(register_module(b.name, std::make_shared<identity::ResidualBlockImpl>(in, b.channels, b.down)));
    in = b.channels;
  }
  auto fc = register_module("fc", std::make_shared<torch::nn::Module>());
  fc_weight_ = fc->register_parameter("weight", torch::zeros({kDescriptorSize, 256}), false);
}

torch::Tensor IdentityNetImpl::forward(const torch::Tensor& chips) const {
  TORCH_CHECK(chips.dim() == 4 && chips.size(1) == 3 && chips.size(2) == kIdentityChipSize &&
                  chips.size(3) == kIdentityChipSize,
              "IdentityNet expects [N, 3, 150, 150] chips, got ", chips.sizes());
  const auto& m = normalisation_.mean_rgb;
  const torch::Tensor mean = torch::tensor({m[0], m[1], m[2]}, torch::kFloat32).view({1, 3, 1, 1});
  torch::Tensor x = (chips - mean) / static_cast<float>(normalisation_.scale);
  x = torch::relu(stem_->forward(x));
  x = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2));
  for (const auto& block : blocks_) x = block->forward(x);
  x = x.mean({2, 3});
  return torch::matmul(x, fc_weight_.t());
}

}  // namespace facemix
