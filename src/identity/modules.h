// The building blocks of IdentityNet (include/facemix/identity.h). Registered
// names are the weight keys: <layer>.conv.weight/bias, <layer>.scale.weight/bias.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace facemix::identity {

// conv (+bias), then a per-channel affine "scale"; ReLU optional at the call.
// Stride 1 convs pad by half the kernel (TF "same"); stride 2 convs do not pad
// (TF "valid"), which is what both dlib and face-api do.
class ConvLayerImpl : public torch::nn::Module {
 public:
  ConvLayerImpl(int in_channels, int out_channels, int kernel, int stride);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  int stride_, padding_;
  torch::Tensor conv_weight_, conv_bias_, scale_weight_, scale_bias_;
};

// relu(conv2(relu(conv1(x))) + shortcut(x)). A down block's conv1 has stride 2
// and its shortcut is a 2x2/2 average pool of x, zero-padded to the residual's
// channels; where the pooled grid is larger than the residual's (odd sizes), the
// residual is zero-padded at the bottom and right, as dlib's add_prev does.
class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int in_channels, int out_channels, bool down);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  bool down_;
  std::shared_ptr<ConvLayerImpl> conv1_, conv2_;
};

}  // namespace facemix::identity
