// A differentiable identity chip: dlib's face chip (face_chip() in identity.h)
// cut from an image *tensor* with affine_grid + grid_sample, so that the
// identity network's gradient reaches whatever made the image (a generator's w).
//
//   facemix::ChipPlacement p = facemix::chip_placement(landmarks, 1024);  // landmarks in a 1024 px frame
//   torch::Tensor img = g->synthesis(w, o);                               // [1, 3, S, S] in [-1, 1], any S
//   torch::Tensor d = model.net->forward(facemix::cut_chips(img, p));     // [1, 128], differentiable
//
// The chip's place is fixed by landmarks in an image frame of side
// `frame_size` (an FFHQ-aligned crop); the tensor may show that frame at any
// resolution S (pixel centres map as (x + 0.5) S / frame_size - 0.5). While a
// chip pixel covers more than two tensor pixels the tensor is first halved
// with a [1 3 3 1] / 8 filter (dlib shrinks through its pyramid there), so the
// chip is not aliased; from a small S it is a bilinear upsampling.
#pragma once

#include <array>
#include <vector>

#include <torch/torch.h>

#include "facemix/face.h"
#include "facemix/identity.h"

namespace facemix {

struct ChipPlacement {
  int frame_size = 0;
  // Chip pixel (c, r) -> frame pixel (x, y): x = m[0] c + m[1] r + m[2], y = m[3] c + m[4] r + m[5].
  std::array<double, 6> chip_to_frame{};
  double frame_pixels_per_chip_pixel = 1.0;  // the map's scale
};

// dlib's get_face_chip_details(landmarks, 150, 0.25) for the 68 landmarks
// (rounded to whole pixels, as face_chip() passes them to dlib).
// requires: frame_size >= 1; landmarks in that frame's pixel coordinates.
// ensures:  face_chip(image, landmarks) samples image at chip_to_frame of each chip pixel.
ChipPlacement chip_placement(const Landmarks& landmarks, int frame_size);

// The whole frame resized to the chip, for images without face landmarks
// (e.g. renders of generators not trained on faces). requires: frame_size >= 1.
ChipPlacement whole_frame_chip(int frame_size);

// requires: images float32 [N, 3, S, S], RGB, nominal [-1, 1] (generator images);
//           (the halving above stops early at an odd side).
// ensures:  [N, 3, 150, 150] RGB 0..255 (x * 127.5 + 128, clamped as an 8-bit
//           image would be), bilinear, zero outside the image (as dlib),
//           differentiable w.r.t. images. Feed to IdentityNet::forward.
// throws:   Error for images of another shape.
torch::Tensor cut_chips(const torch::Tensor& images, const ChipPlacement& placement);

// float32 [K, 128], one row per descriptor (CPU).
torch::Tensor descriptor_tensor(const std::vector<Descriptor>& descriptors);

// Euclidean distances between the rows of a and b ([N, 128] each, or one of
// them [1, 128], broadcast): [N], differentiable (smooth at 0).
torch::Tensor descriptor_distances(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace facemix
