// Internal to src/face: the streamed form of transform + resize that
// align_face uses (same bytes as transform_quad_bilinear followed by
// resize_antialias, without materialising the supersampled image).
#pragma once

#include <array>

#include <opencv2/core.hpp>

namespace facemix::detail {

// == resize_antialias(transform_quad_bilinear(image, transform_size, quad_pil),
//                     {output_size, output_size}), computed band by band so only
// transform_size x output_size x 3 bytes of intermediate are held.
// requires: image CV_8UC3; output_size <= transform_size.
cv::Mat transform_quad_and_resize(const cv::Mat& image, int transform_size,
                                  const std::array<cv::Point2d, 4>& quad_pil, int output_size);

}  // namespace facemix::detail
