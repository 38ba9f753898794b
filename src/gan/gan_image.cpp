#include "facemix/gan_image.h"

#include <torch/torch.h>
#include <opencv2/imgproc.hpp>

#include "facemix/errors.h"

namespace facemix {

cv::Mat generator_image_to_bgr(const torch::Tensor& img_in) {
  torch::Tensor img = img_in.dim() == 4 && img_in.size(0) == 1 ? img_in[0] : img_in;
  if (img.dim() != 3 || img.size(0) != 3)
    throw UsageError("generator image must be [3, H, W] or [1, 3, H, W]");
  torch::Tensor u8 = (img.detach().to(torch::kCPU, torch::kFloat32) * 127.5 + 128)
                         .clamp(0, 255)
                         .to(torch::kUInt8)
                         .permute({1, 2, 0})
                         .contiguous();
  cv::Mat rgb(static_cast<int>(u8.size(0)), static_cast<int>(u8.size(1)), CV_8UC3, u8.data_ptr<uint8_t>());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);  // copies: bgr owns its pixels
  return bgr;
}

torch::Tensor bgr_to_generator_image(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3) throw UsageError("expected an 8-bit 3-channel image");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  torch::Tensor t = torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8).clone();
  return ((t.permute({2, 0, 1}).to(torch::kFloat32) - 128.0) / 127.5).unsqueeze(0).contiguous();
}

}  // namespace facemix
