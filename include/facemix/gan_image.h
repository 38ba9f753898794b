// Conversions between generator images (float RGB NCHW, nominal range [-1, 1])
// and 8-bit BGR OpenCV images, with NVIDIA's rounding convention.
//
//   cv::Mat bgr = facemix::generator_image_to_bgr(img[0]);   // img from Generator::synthesis
//   at::Tensor t = facemix::bgr_to_generator_image(bgr);  // [1, 3, H, W]
#pragma once

#include <opencv2/core.hpp>
#include <ATen/core/Tensor.h>

namespace facemix {

// requires: img is [3, H, W] or [1, 3, H, W], any float dtype and device.
// ensures:  CV_8UC3 BGR with RGB = uint8(clamp(img * 127.5 + 128, 0, 255))
//           (truncation, as NVIDIA's generate.py).
// throws:   UsageError for another shape.
cv::Mat generator_image_to_bgr(const at::Tensor& img);

// requires: bgr is CV_8UC3.
// ensures:  float32 [1, 3, H, W] RGB with values (v - 128) / 127.5 on the CPU, the
//           inverse of generator_image_to_bgr up to its rounding.
// throws:   UsageError for another image type.
at::Tensor bgr_to_generator_image(const cv::Mat& bgr);

}  // namespace facemix
