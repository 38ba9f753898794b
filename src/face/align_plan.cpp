// The FFHQ alignment plan: every decision of NVIDIA's ffhq-dataset
// recreate_aligned_images procedure, from the landmarks and image size alone,
// plus the exact affine maps between the original and the aligned image.
#include <algorithm>
#include <cmath>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "facemix/align.h"
#include "facemix/errors.h"

namespace facemix {
namespace {

// numpy's rint: round half to even (the default FP rounding mode).
int rint_int(double v) { return static_cast<int>(std::nearbyint(v)); }

// Plain 2-vectors: cv::Vec's division multiplies by the reciprocal, which can
// differ from numpy's true division in the last bit.
struct V2 {
  double x, y;
};
V2 operator+(V2 a, V2 b) { return {a.x + b.x, a.y + b.y}; }
V2 operator-(V2 a, V2 b) { return {a.x - b.x, a.y - b.y}; }
V2 operator*(V2 a, double k) { return {a.x * k, a.y * k}; }
V2 operator/(V2 a, double k) { return {a.x / k, a.y / k}; }
double norm2(V2 v) { return std::hypot(v.x, v.y); }

V2 mean_of(const Landmarks& lm, int first, int last) {
  V2 sum{0, 0};
  for (int i = first; i < last; ++i) sum = sum + V2{lm[static_cast<std::size_t>(i)].x, lm[static_cast<std::size_t>(i)].y};
  return sum / static_cast<double>(last - first);
}

// Bounding box (floor of minima, ceil of maxima) of a quad, as the reference computes it.
cv::Vec4i quad_bounds(const std::array<cv::Point2d, 4>& q) {
  double x0 = q[0].x, y0 = q[0].y, x1 = q[0].x, y1 = q[0].y;
  for (const auto& p : q) {
    x0 = std::min(x0, p.x);
    y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x);
    y1 = std::max(y1, p.y);
  }
  return {static_cast<int>(std::floor(x0)), static_cast<int>(std::floor(y0)),
          static_cast<int>(std::ceil(x1)), static_cast<int>(std::ceil(y1))};
}

}  // namespace

cv::Point2d AlignmentPlan::to_original(cv::Point2d a) const {
  const cv::Matx23d& m = aligned_to_original;
  return {m(0, 0) * a.x + m(0, 1) * a.y + m(0, 2), m(1, 0) * a.x + m(1, 1) * a.y + m(1, 2)};
}

cv::Point2d AlignmentPlan::to_aligned(cv::Point2d o) const {
  const cv::Matx23d& m = original_to_aligned;
  return {m(0, 0) * o.x + m(0, 1) * o.y + m(0, 2), m(1, 0) * o.x + m(1, 1) * o.y + m(1, 2)};
}

AlignmentPlan plan_ffhq_alignment(const Landmarks& lm, cv::Size image_size, const AlignOptions& options) {
  if (image_size.width <= 0 || image_size.height <= 0)
    throw UsageError("plan_ffhq_alignment: empty image");
  if (options.output_size < 16 || options.output_size > 4096)
    throw UsageError("aligned size " + std::to_string(options.output_size) +
                     " is out of range (16 to 4096)");
  const int T = options.transform_size == 0 ? 4 * options.output_size : options.transform_size;
  if (T < options.output_size || T > 16384)
    throw UsageError("transform size " + std::to_string(T) + " is out of range (output size to 16384)");

  AlignmentPlan p;
  p.output_size = options.output_size;
  p.transform_size = T;
  p.image_size = image_size;

  // Oriented crop rectangle.
  const V2 eye_left = mean_of(lm, 36, 42), eye_right = mean_of(lm, 42, 48);
  const V2 eye_avg = (eye_left + eye_right) * 0.5;
  const V2 eye_to_eye = eye_right - eye_left;
  const V2 mouth_avg = (V2{lm[48].x, lm[48].y} + V2{lm[54].x, lm[54].y}) * 0.5;
  const V2 eye_to_mouth = mouth_avg - eye_avg;
  // x = eye_to_eye - flipud(eye_to_mouth) * [-1, 1]
  V2 x = eye_to_eye - V2{-eye_to_mouth.y, eye_to_mouth.x};
  x = x / norm2(x);
  x = x * std::max(norm2(eye_to_eye) * 2.0, norm2(eye_to_mouth) * 1.8);
  const V2 y{-x.y, x.x};  // flipud(x) * [-1, 1]
  const V2 c = eye_avg + eye_to_mouth * 0.1;
  const auto pt = [](V2 v) { return cv::Point2d(v.x, v.y); };
  p.quad = {pt(c - x - y), pt(c - x + y), pt(c + x + y), pt(c + x - y)};
  p.qsize = norm2(x) * 2;
  // Coinciding eyes and mouth give no orientation (x is 0/0 = NaN above).
  if (!std::isfinite(p.qsize) || p.qsize < 1.0)
    throw Error("face alignment: degenerate landmarks (the eyes and mouth coincide)");

  std::array<cv::Point2d, 4> quad = p.quad;
  double qsize = p.qsize;
  cv::Size size = image_size;

  // Shrink.
  const int shrink = static_cast<int>(std::floor(qsize / options.output_size * 0.5));
  p.shrink = std::max(shrink, 1);
  if (shrink > 1) {
    size = cv::Size(rint_int(static_cast<double>(image_size.width) / shrink),
                    rint_int(static_cast<double>(image_size.height) / shrink));
    for (auto& q : quad) q = cv::Point2d(q.x / shrink, q.y / shrink);
    qsize /= shrink;
    p.shrink_scale = cv::Vec2d(static_cast<double>(image_size.width) / size.width,
                               static_cast<double>(image_size.height) / size.height);
  }
  p.shrunk_size = size;
  p.work_qsize = qsize;

  // Crop.
  const int border = std::max(rint_int(qsize * 0.1), 3);
  p.border = border;
  cv::Vec4i b = quad_bounds(quad);
  cv::Vec4i crop(std::max(b[0] - border, 0), std::max(b[1] - border, 0),
                 std::min(b[2] + border, size.width), std::min(b[3] + border, size.height));
  if (crop[2] <= crop[0] || crop[3] <= crop[1])
    throw Error("face alignment: the face region lies outside the image");
  if (crop[2] - crop[0] < size.width || crop[3] - crop[1] < size.height) {
    for (auto& q : quad) q -= cv::Point2d(crop[0], crop[1]);
    p.crop = cv::Rect(crop[0], crop[1], crop[2] - crop[0], crop[3] - crop[1]);
  } else {
    p.crop = cv::Rect(0, 0, size.width, size.height);
  }
  size = p.crop.size();

  // Pad.
  b = quad_bounds(quad);
  cv::Vec4i pad(std::max(-b[0] + border, 0), std::max(-b[1] + border, 0),
                std::max(b[2] - size.width + border, 0), std::max(b[3] - size.height + border, 0));
  const int max_pad = std::max({pad[0], pad[1], pad[2], pad[3]});
  if (options.enable_padding && max_pad > border - 4) {
    const int least = rint_int(qsize * 0.3);
    for (int i = 0; i < 4; ++i) pad[i] = std::max(pad[i], least);
    p.pad = pad;
    p.padded = true;
    p.blur_sigma = qsize * 0.02;
    size = cv::Size(size.width + pad[0] + pad[2], size.height + pad[1] + pad[3]);
    for (auto& q : quad) q += cv::Point2d(pad[0], pad[1]);
  }
  p.work_size = size;
  p.work_quad = quad;

  // aligned -> original. With pixel centres at integers and PIL's at +0.5:
  //   work = q0 + (q3 - q0) (u + 0.5) / S + (q1 - q0) (v + 0.5) / S   (the supersample
  //          factor T/S cancels against the quad's 1/T),
  //   shrunk = work - pad + crop origin,
  //   original = (shrunk + 0.5) * shrink_scale - 0.5.
  const double S = options.output_size;
  const cv::Point2d ex = (quad[3] - quad[0]) * (1.0 / S), ey = (quad[1] - quad[0]) * (1.0 / S);
  const cv::Point2d origin = quad[0] + (ex + ey) * 0.5 - cv::Point2d(p.pad[0], p.pad[1]) +
                             cv::Point2d(p.crop.x, p.crop.y);
  const double kx = p.shrink_scale[0], ky = p.shrink_scale[1];
  p.aligned_to_original = cv::Matx23d(ex.x * kx, ey.x * kx, (origin.x + 0.5) * kx - 0.5,
                                      ex.y * ky, ey.y * ky, (origin.y + 0.5) * ky - 0.5);
  cv::invertAffineTransform(p.aligned_to_original, p.original_to_aligned);
  return p;
}

}  // namespace facemix
