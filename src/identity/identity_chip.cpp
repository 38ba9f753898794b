// The differentiable identity chip: dlib's chip geometry, torch's sampler.
#include "facemix/identity_chip.h"

#include "facemix/errors.h"
#include "facemix/identity.h"

namespace facemix {

torch::Tensor cut_chips(const torch::Tensor& images, const ChipPlacement& p) {
  if (images.dim() != 4 || images.size(1) != 3 || images.size(2) != images.size(3) ||
      images.scalar_type() != torch::kFloat32 || p.frame_size < 1)
    throw Error("cut_chips: images must be float32 [N, 3, S, S] and the placement set");
  namespace F = torch::nn::functional;
  const int64_t n = images.size(0), S = images.size(2);
  // 0..255 first, so that outside the image is black as in dlib's chips.
  torch::Tensor rgb = (images * 127.5 + 128.0).clamp(0.0, 255.0);
  // Shrinking a lot: halve first while a chip pixel covers more than two
  // pixels, as dlib's pyramid does; each halving filters with the binomial
  // [1 3 3 1] / 8 (close to dlib's 5-tap pyramid filter, and centred between
  // pixel pairs like a 2x2 box, so the frame's pixel centres stay put).
  double pixels_per_chip_pixel = p.frame_pixels_per_chip_pixel * static_cast<double>(S) / p.frame_size;
  if (pixels_per_chip_pixel > 2.0) {
    const torch::Tensor taps = torch::tensor({1.0f, 3.0f, 3.0f, 1.0f}, torch::kFloat32) / 8.0;
    const torch::Tensor kernel = (taps.unsqueeze(1) * taps.unsqueeze(0)).expand({3, 1, 4, 4}).contiguous().to(images.device());
    while (pixels_per_chip_pixel > 2.0 && rgb.size(2) % 2 == 0 && rgb.size(2) >= 4) {
      const torch::Tensor padded = F::pad(rgb, F::PadFuncOptions({1, 1, 1, 1}).mode(torch::kReplicate));
      rgb = F::conv2d(padded, kernel, F::Conv2dFuncOptions().stride(2).groups(3));
      pixels_per_chip_pixel /= 2.0;
    }
  }

  // With align_corners=false a frame pixel x lies at (2x + 1) / F - 1 whatever
  // the tensor's resolution, and chip pixel c at (2c + 1) / 150 - 1.
  const double F_ = p.frame_size, C = kIdentityChipSize;
  const auto& m = p.chip_to_frame;
  const double half = (C - 1.0) / 2.0;  // chip pixel c = (C/2) g + half for grid coordinate g
  auto row = [&](double a, double b, double t) {
    return std::array<double, 3>{a * C / F_, b * C / F_, (2.0 / F_) * (a * half + b * half + t) + 1.0 / F_ - 1.0};
  };
  const auto r0 = row(m[0], m[1], m[2]), r1 = row(m[3], m[4], m[5]);
  const torch::Tensor theta =
      torch::tensor({r0[0], r0[1], r0[2], r1[0], r1[1], r1[2]}, torch::kFloat32).reshape({1, 2, 3}).expand({n, 2, 3});
  const torch::Tensor grid = F::affine_grid(theta.to(images.device()), {n, 3, kIdentityChipSize, kIdentityChipSize},
                                            /*align_corners=*/false);
  return F::grid_sample(rgb, grid,
                        F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(false));
}

ChipPlacement whole_frame_chip(int frame_size) {
  if (frame_size < 1) throw Error("whole_frame_chip: frame size must be positive");
  ChipPlacement p;
  p.frame_size = frame_size;
  const double s = static_cast<double>(frame_size) / kIdentityChipSize;  // pixel centres: x = (c + 0.5) s - 0.5
  p.chip_to_frame = {s, 0.0, 0.5 * s - 0.5, 0.0, s, 0.5 * s - 0.5};
  p.frame_pixels_per_chip_pixel = s;
  return p;
}

torch::Tensor descriptor_tensor(const std::vector<Descriptor>& descriptors) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(descriptors.size()), kDescriptorSize}, torch::kFloat32);
  for (std::size_t i = 0; i < descriptors.size(); ++i)
    std::copy(descriptors[i].begin(), descriptors[i].end(), t[static_cast<int64_t>(i)].data_ptr<float>());
  return t;
}

torch::Tensor descriptor_distances(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).square().sum(1).add(1e-12).sqrt();
}

}  // namespace facemix
