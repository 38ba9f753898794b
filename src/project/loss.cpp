#include "loss.h"

#include <vector>

#include <torch/script.h>

#include "facemix/errors.h"

namespace facemix::projection {

torch::Tensor area_downsample(const torch::Tensor& img, int64_t size) {
  const int64_t side = img.size(-1);
  if (side == size) return img;
  const int64_t k = side / size;
  return torch::avg_pool2d(img, {k, k}, {k, k});
}

namespace {

class PixelPyramidLoss : public ProjectionLoss {
 public:
  explicit PixelPyramidLoss(double weight) : weight_(weight) {}
  void set_target(const torch::Tensor& target) override { levels_ = pyramid(target); }

  torch::Tensor distance(const torch::Tensor& synth) const override {
    const std::vector<torch::Tensor> s = pyramid(synth);
    torch::Tensor d;
    for (size_t i = 0; i < s.size(); ++i) {
      torch::Tensor l = (s[i] - levels_[i]).square().mean({1, 2, 3});
      d = d.defined() ? d + l : l;
    }
    return d * weight_;
  }

 private:
  static std::vector<torch::Tensor> pyramid(torch::Tensor x) {
    std::vector<torch::Tensor> levels{x};
    while (x.size(-1) > 8) {
      x = torch::avg_pool2d(x, {2, 2}, {2, 2});
      levels.push_back(x);
    }
    return levels;
  }

  double weight_;
  std::vector<torch::Tensor> levels_;
};

constexpr int64_t kLpipsSize = 256;

class PerceptualLoss : public ProjectionLoss {
 public:
  PerceptualLoss(const std::string& path, torch::Device device) : path_(path) {
    try {
      module_ = torch::jit::load(path, device);
    } catch (const c10::Error& e) {
      throw ModelError(path + ": --perceptual: not a loadable TorchScript module (" +
                       first_line(e.what_without_backtrace()) + ")");
    }
    module_.eval();
    // Frozen: backward then computes gradients for the images only.
    for (auto p : module_.parameters()) p.set_requires_grad(false);
    if (!module_.find_method("forward"))
      throw ModelError(path + ": --perceptual: the module has no forward method");
  }

  void set_target(const torch::Tensor& target) override { target_features_ = features(target).detach(); }

  torch::Tensor distance(const torch::Tensor& synth) const override {
    return (features(synth) - target_features_).square().sum(1);
  }

 private:
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

  torch::Tensor features(const torch::Tensor& img) const {
    torch::Tensor x = img;
    const int64_t side = x.size(-1);
    if (side > kLpipsSize)
      x = area_downsample(x, kLpipsSize);
    else if (side < kLpipsSize)
      x = torch::nn::functional::interpolate(
          x, torch::nn::functional::InterpolateFuncOptions()
                 .size(std::vector<int64_t>{kLpipsSize, kLpipsSize})
                 .mode(torch::kBilinear)
                 .align_corners(false));
    x = (x + 1.0) * 127.5;  // NVIDIA: (img + 1) * (255 / 2)
    torch::IValue out;
    try {
      auto method = module_.get_method("forward");
      out = method({x}, {{"resize_images", false}, {"return_lpips", true}});
    } catch (const c10::Error& e) {
      throw ModelError(path_ + ": --perceptual: calling forward(img, resize_images=False, return_lpips=True) failed (" +
                       first_line(e.what_without_backtrace()) + ")");
    }
    if (!out.isTensor() || out.toTensor().dim() != 2 || out.toTensor().size(0) != img.size(0))
      throw ModelError(path_ + ": --perceptual: forward must return a [N, F] feature tensor");
    return out.toTensor();
  }

  std::string path_;
  mutable torch::jit::Module module_;
  torch::Tensor target_features_;
};

}  // namespace

std::unique_ptr<ProjectionLoss> make_pixel_pyramid_loss(double weight) {
  return std::make_unique<PixelPyramidLoss>(weight);
}

std::unique_ptr<ProjectionLoss> make_perceptual_loss(const std::string& path, torch::Device device) {
  return std::make_unique<PerceptualLoss>(path, device);
}

}  // namespace facemix::projection
