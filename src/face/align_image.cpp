// Executes an FFHQ alignment plan on pixels: shrink, crop, pad (reflect, then
// blur and median towards the padded edges), quad transform at the
// supersampled size and the antialiased reduction to the output size.
#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "face/resample.h"
#include "facemix/align.h"
#include "facemix/errors.h"
#include "facemix/progress.h"

namespace facemix {
namespace {

// scipy.ndimage.gaussian_filter's kernel: radius int(4 sigma + 0.5), weights
// exp(-x^2 / (2 sigma^2)) normalised to sum 1.
cv::Mat gaussian_kernel(double sigma) {
  const int radius = static_cast<int>(4.0 * sigma + 0.5);
  cv::Mat k(2 * radius + 1, 1, CV_64F);
  double sum = 0;
  for (int i = -radius; i <= radius; ++i) {
    const double v = std::exp(-0.5 / (sigma * sigma) * i * i);
    k.at<double>(i + radius) = v;
    sum += v;
  }
  k /= sum;
  cv::Mat k32;
  k.convertTo(k32, CV_32F);
  return k32;
}

// Median over all pixels of one channel (numpy: mean of the two middle values
// for an even count), in float32 as numpy computes it for a float32 image.
float channel_median(const cv::Mat& img, int channel) {
  std::vector<float> v;
  v.reserve(img.total());
  for (int y = 0; y < img.rows; ++y) {
    const float* p = img.ptr<float>(y);
    for (int x = 0; x < img.cols; ++x) v.push_back(p[x * 3 + channel]);
  }
  const std::size_t n = v.size(), mid = n / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  const float upper = v[mid];
  if (n % 2 == 1) return upper;
  const float lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2.0f;
}

// The FFHQ padding step, on the cropped 8-bit image: numpy 'reflect' padding
// (edge pixel not repeated), then towards the new edges a blend to a blurred
// copy and to the per-channel median, then back to 8 bits with rint.
cv::Mat pad_and_blend(const cv::Mat& cropped, const AlignmentPlan& p) {
  const int pl = p.pad[0], pt = p.pad[1], pr = p.pad[2], pb = p.pad[3];
  cv::Mat src;
  cropped.convertTo(src, CV_32F);
  cv::Mat img;
  cv::copyMakeBorder(src, img, pt, pb, pl, pr, cv::BORDER_REFLECT_101);
  const int h = img.rows, w = img.cols;

  // mask = max(1 - min(x / pl, (w-1-x) / pr), 1 - min(y / pt, (h-1-y) / pb)), float32.
  std::vector<float> mx(static_cast<std::size_t>(w)), my(static_cast<std::size_t>(h));
  for (int x = 0; x < w; ++x)
    mx[static_cast<std::size_t>(x)] = 1.0f - std::min(static_cast<float>(x) / static_cast<float>(pl),
                                                      static_cast<float>(w - 1 - x) / static_cast<float>(pr));
  for (int y = 0; y < h; ++y)
    my[static_cast<std::size_t>(y)] = 1.0f - std::min(static_cast<float>(y) / static_cast<float>(pt),
                                                      static_cast<float>(h - 1 - y) / static_cast<float>(pb));

  check_interrupt();
  cv::Mat blurred;
  const cv::Mat k = gaussian_kernel(p.blur_sigma);
  // scipy's 'reflect' mode repeats the edge pixel: OpenCV's BORDER_REFLECT.
  cv::sepFilter2D(img, blurred, CV_32F, k, k, cv::Point(-1, -1), 0, cv::BORDER_REFLECT);
  check_interrupt();

  cv::parallel_for_(cv::Range(0, h), [&](const cv::Range& r) {
    for (int y = r.start; y < r.end; ++y) {
      float* d = img.ptr<float>(y);
      const float* b = blurred.ptr<float>(y);
      for (int x = 0; x < w; ++x) {
        const float mask = std::max(mx[static_cast<std::size_t>(x)], my[static_cast<std::size_t>(y)]);
        const float wgt = std::clamp(mask * 3.0f + 1.0f, 0.0f, 1.0f);
        for (int c = 0; c < 3; ++c) d[x * 3 + c] += (b[x * 3 + c] - d[x * 3 + c]) * wgt;
      }
    }
  });
  const float median[3] = {channel_median(img, 0), channel_median(img, 1), channel_median(img, 2)};
  cv::Mat out(h, w, CV_8UC3);
  cv::parallel_for_(cv::Range(0, h), [&](const cv::Range& r) {
    for (int y = r.start; y < r.end; ++y) {
      float* d = img.ptr<float>(y);
      std::uint8_t* o = out.ptr<std::uint8_t>(y);
      for (int x = 0; x < w; ++x) {
        const float mask = std::max(mx[static_cast<std::size_t>(x)], my[static_cast<std::size_t>(y)]);
        const float wgt = std::clamp(mask, 0.0f, 1.0f);
        for (int c = 0; c < 3; ++c) {
          const float v = d[x * 3 + c] + (median[c] - d[x * 3 + c]) * wgt;
          o[x * 3 + c] = static_cast<std::uint8_t>(std::clamp(std::nearbyint(v), 0.0f, 255.0f));
        }
      }
    }
  });
  return out;
}

}  // namespace

AlignedFace align_face(const cv::Mat& image, const Landmarks& landmarks, const AlignOptions& options) {
  if (image.empty() || image.type() != CV_8UC3)
    throw Error("align_face: image must be non-empty 8-bit BGR");
  AlignedFace result;
  result.alignment = plan_ffhq_alignment(landmarks, image.size(), options);
  const AlignmentPlan& p = result.alignment;

  cv::Mat work = image;
  if (p.shrink > 1) work = resize_antialias(image, p.shrunk_size);
  check_interrupt();
  if (p.crop != cv::Rect(0, 0, work.cols, work.rows)) work = work(p.crop).clone();
  if (p.padded) work = pad_and_blend(work, p);
  check_interrupt();

  std::array<cv::Point2d, 4> quad_pil;
  for (std::size_t i = 0; i < 4; ++i) quad_pil[i] = p.work_quad[i] + cv::Point2d(0.5, 0.5);
  result.image = detail::transform_quad_and_resize(work, p.transform_size, quad_pil, p.output_size);

  for (std::size_t i = 0; i < landmarks.size(); ++i) result.landmarks[i] = p.to_aligned(landmarks[i]);
  return result;
}

}  // namespace facemix
