// Facial regions for mixing appearance separately: feathered masks from the
// 68 landmarks, and the MorphMix helpers.
#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "facemix/morph.h"

namespace facemix {
namespace {

std::vector<cv::Point> hull_of(const Landmarks& lm, std::initializer_list<std::pair<int, int>> ranges,
                               const std::vector<cv::Point2d>& extra = {}) {
  std::vector<cv::Point2f> pts;
  for (const auto& [first, last] : ranges)
    for (int k = first; k <= last; ++k) pts.emplace_back(lm[k]);
  for (const auto& p : extra) pts.emplace_back(p);
  std::vector<cv::Point2f> hull;
  cv::convexHull(pts, hull);
  std::vector<cv::Point> out;
  // Fixed-point polygon (4 fractional bits) so sub-pixel landmarks move the mask smoothly.
  for (const auto& p : hull) out.emplace_back(cvRound(p.x * 16), cvRound(p.y * 16));
  return out;
}

cv::Mat filled(cv::Size size, const std::vector<std::vector<cv::Point>>& polygons) {
  cv::Mat m(size, CV_8UC1, cv::Scalar(0));
  for (const auto& p : polygons) cv::fillConvexPoly(m, p, cv::Scalar(255), cv::LINE_AA, 4);
  return m;
}

// Grows a hard mask by `grow` pixels and feathers it with a Gaussian of `sigma`.
cv::Mat soft(const cv::Mat& hard, double grow, double sigma) {
  cv::Mat m = hard;
  const int r = std::max(0, static_cast<int>(std::lround(grow)));
  if (r > 0) cv::dilate(hard, m, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * r + 1, 2 * r + 1)));
  cv::Mat f;
  m.convertTo(f, CV_32FC1, 1.0 / 255.0);
  if (sigma > 0.3) cv::GaussianBlur(f, f, cv::Size(0, 0), sigma, sigma, cv::BORDER_REPLICATE);
  return f;
}

cv::Point2d mean_of(const Landmarks& lm, int first, int last) {
  cv::Point2d s(0, 0);
  for (int k = first; k <= last; ++k) s += lm[k];
  return s / static_cast<double>(last - first + 1);
}

}  // namespace

const char* face_region_name(int region) {
  static const char* const kNames[kFaceRegionCount] = {"eyes", "nose", "mouth", "face"};
  return region >= 0 && region < kFaceRegionCount ? kNames[region] : "?";
}

std::array<cv::Mat, kFaceRegionCount> face_region_masks(const Landmarks& lm, cv::Size size) {
  const double eye_distance = cv::norm(mean_of(lm, 36, 41) - mean_of(lm, 42, 47));
  const double grow = 0.08 * eye_distance, sigma = 0.06 * eye_distance;
  // The forehead: the brows lifted by half the eye distance, so the face region
  // reaches into it without taking the hairline.
  std::vector<cv::Point2d> forehead;
  const cv::Point2d up(0, -0.5 * eye_distance);
  for (int k = 17; k <= 26; ++k) forehead.push_back(lm[k] + up);

  std::array<cv::Mat, kFaceRegionCount> m;
  m[kRegionEyes] = soft(filled(size, {hull_of(lm, {{17, 21}, {36, 41}}), hull_of(lm, {{22, 26}, {42, 47}})}), grow, sigma);
  m[kRegionNose] = soft(filled(size, {hull_of(lm, {{27, 35}})}), grow, sigma);
  m[kRegionMouth] = soft(filled(size, {hull_of(lm, {{48, 59}})}), grow, sigma);
  // Overlaps (the nose bridge between the eyes) are shared so the three sum to at most 1.
  cv::Mat parts = m[kRegionEyes] + m[kRegionNose] + m[kRegionMouth];
  cv::Mat over;
  cv::max(parts, 1.0, over);
  for (int r : {kRegionEyes, kRegionNose, kRegionMouth}) cv::divide(m[r], over, m[r]);
  cv::min(parts, 1.0, parts);
  const cv::Mat face = soft(filled(size, {hull_of(lm, {{0, 26}}, forehead)}), 0.0, 2.0 * sigma);
  cv::max(face - parts, 0.0, m[kRegionFace]);
  return m;
}

MorphMix MorphMix::uniform(const std::vector<double>& weights) {
  MorphMix mix;
  mix.shape = mix.backdrop = weights;
  for (auto& r : mix.regions) r = weights;
  return mix;
}

const std::vector<double>& MorphMix::shape_of(int region) const {
  const std::vector<double>& r = shape_regions[static_cast<std::size_t>(region)];
  return r.empty() ? shape : r;
}

bool MorphMix::uses(std::size_t i) const {
  if (backdrop[i] != 0.0) return true;
  return std::any_of(regions.begin(), regions.end(), [i](const std::vector<double>& r) { return r[i] != 0.0; });
}

bool MorphMix::is_uniform() const {
  if (backdrop != shape) return false;
  for (int r = 0; r < kFaceRegionCount; ++r)
    if (shape_of(r) != shape) return false;
  return std::all_of(regions.begin(), regions.end(), [this](const std::vector<double>& r) { return r == shape; });
}

int landmark_shape_region(int k) {
  if (k <= 16) return kRegionFace;
  if (k <= 26) return kRegionEyes;
  if (k <= 35) return kRegionNose;
  if (k <= 47) return kRegionEyes;
  return kRegionMouth;
}

}  // namespace facemix
