// Private: the projection losses. Both compare a synthesised batch with the
// target batch image by image and return one distance per image ([N]), so
// that summing them keeps every image's optimisation independent.
#pragma once

#include <memory>
#include <string>

#include <torch/torch.h>

namespace facemix::projection {

class ProjectionLoss {
 public:
  virtual ~ProjectionLoss() = default;
  // Fixes the target for the following distance() calls: [N, C, s, s] in the
  // nominal range [-1, 1], at the size the synthesised images will have.
  virtual void set_target(const torch::Tensor& target) = 0;
  // [N, C, s, s] in [-1, 1] -> [N], differentiable.
  virtual torch::Tensor distance(const torch::Tensor& synth) const = 0;
};

// Multi-scale pixel loss: at each level of an average-pool pyramid (the image,
// then halved until the side is <= 8 px), the mean squared difference, summed
// over levels and multiplied by `weight`. Coarse levels repeat the low
// frequencies, so they weigh more: the optimiser fixes layout and colour first.
std::unique_ptr<ProjectionLoss> make_pixel_pyramid_loss(double weight);

// NVIDIA's LPIPS VGG16 TorchScript (or a module with its signature), run on
// 256 x 256 images in [0, 255] with resize_images=False, return_lpips=True;
// distance = sum of squared feature differences. Smaller images are
// bilinearly upsampled to 256 first, larger ones area-downsampled.
// throws: ModelError naming `path` when it cannot be loaded.
std::unique_ptr<ProjectionLoss> make_perceptual_loss(const std::string& path, torch::Device device);

// Area (box) downsampling by an integer factor: [N, C, H, W] -> side `size`.
// requires: H == W, H a multiple of size.
torch::Tensor area_downsample(const torch::Tensor& img, int64_t size);

}  // namespace facemix::projection
