// Layer decomposition of a face crop (CIE Lab; base = self-guided filter of L,
// detail = the rest), its skin statistics, and the occluder test built on them.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "facemix/makeup.h"
#include "makeup_internal.h"

namespace facemix {
namespace makeup_detail {
namespace {

cv::Mat box_mean(const cv::Mat& m, int radius) {
  cv::Mat out;
  cv::boxFilter(m, out, CV_32F, cv::Size(2 * radius + 1, 2 * radius + 1), cv::Point(-1, -1), true,
                cv::BORDER_REFLECT);
  return out;
}

// He, Sun and Tang's guided filter with the image as its own guide: smooths
// where the local variance is below `eps` and keeps stronger edges, with box
// filters only (cost independent of the radius).
cv::Mat self_guided_filter(const cv::Mat& image, int radius, double eps) {
  const cv::Mat mean = box_mean(image, radius);
  const cv::Mat variance = box_mean(image.mul(image), radius) - mean.mul(mean);
  const cv::Mat a = variance / (variance + eps);
  const cv::Mat b = mean - a.mul(mean);
  return box_mean(a, radius).mul(image) + box_mean(b, radius);
}

double median_where(const cv::Mat& values, const cv::Mat& selected) {
  std::vector<float> v;
  for (int y = 0; y < values.rows; ++y) {
    const auto* s = selected.ptr<float>(y);
    const auto* x = values.ptr<float>(y);
    for (int i = 0; i < values.cols; ++i)
      if (s[i] > 0.5f) v.push_back(x[i]);
  }
  if (v.empty()) return 0;
  auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

// 0 below `lo`, 1 above `hi`, smooth in between.
cv::Mat smoothstep(const cv::Mat& x, double lo, double hi) {
  cv::Mat t = cv::min(cv::max((x - lo) / (hi - lo), 0.0), 1.0);
  return t.mul(t).mul(3.0 - 2.0 * t);
}

}  // namespace

LabLayers split_layers(const cv::Mat& bgr, double unit) {
  if (bgr.type() != CV_8UC3 || !(unit > 0)) throw std::invalid_argument("split_layers: needs CV_8UC3 and unit > 0");
  LabLayers out;
  cv::Mat f;
  bgr.convertTo(f, CV_32FC3, 1.0 / 255);
  cv::cvtColor(f, out.lab, cv::COLOR_BGR2Lab);
  cv::Mat l;
  cv::extractChannel(out.lab, l, 0);
  // Radius ~6 % of the eye distance and a variance threshold of 4^2 (L units):
  // pores and fine wrinkles go to detail; lip, lid and brow contours stay in base.
  out.base = self_guided_filter(l, std::max(2, cvRound(0.06 * unit)), 16.0);
  out.detail = l - out.base;
  cv::Mat energy;
  cv::sqrt(box_mean(out.detail.mul(out.detail), std::max(1, cvRound(0.03 * unit))), energy);
  out.texture = energy;
  return out;
}

SkinStats skin_stats(const LabLayers& layers, const cv::Mat& skin) {
  SkinStats s;
  cv::Mat channels[3];
  cv::split(layers.lab, channels);
  for (int c = 0; c < 3; ++c) s.lab[c] = median_where(channels[c], skin);
  s.base_l = median_where(layers.base, skin);
  s.texture = median_where(layers.texture, skin);
  return s;
}

namespace {

cv::Mat chroma_of(const cv::Mat& lab) {
  cv::Mat channels[3], c;
  cv::split(lab, channels);
  cv::magnitude(channels[1], channels[2], c);
  return c;
}

}  // namespace

LipStats lip_stats(const LabLayers& layers, const cv::Mat& lips) {
  const cv::Mat chroma = chroma_of(layers.lab);
  cv::Mat selected = lips.clone();
  // Teeth and the dark inside of the mouth are greyer than lips: keep the
  // pixels with at least 70 % of the region's median chroma, not far brighter.
  const double c_median = median_where(chroma, selected), l_median = median_where(layers.base, selected);
  selected.setTo(0, (chroma < 0.7 * c_median) | (layers.base > l_median + 15.0));
  if (cv::countNonZero(selected > 0.5) == 0) selected = lips;
  cv::Mat channels[3];
  cv::split(layers.lab, channels);
  LipStats s;
  s.base_l = median_where(layers.base, selected);
  s.ab = {median_where(channels[1], selected), median_where(channels[2], selected)};
  s.chroma = median_where(chroma, selected);
  return s;
}

cv::Mat lip_likeness(const LabLayers& layers, const LipStats& stats) {
  const cv::Mat grey = 1.0 - smoothstep(chroma_of(layers.lab), 0.35 * stats.chroma, 0.7 * stats.chroma);
  const cv::Mat bright = smoothstep(layers.base - stats.base_l, 12.0, 25.0);
  return (1.0 - grey).mul(1.0 - bright);
}

cv::Mat plausibility(const LabLayers& layers, const SkinStats& stats, const cv::Mat& skin, double unit) {
  // Beard and glasses frames are several times busier than the face's own
  // skin; on skin they are also much darker than its median.
  const cv::Mat busy = smoothstep(layers.texture / std::max(stats.texture, 0.3), 3.0, 6.0);
  // On skin, also what is much darker than the skin (a dark beard, a frame's
  // shadow) or of another hue (a grey beard, a metal frame).
  const cv::Mat dark = smoothstep(stats.base_l - layers.base, 18.0, 32.0);
  cv::Mat channels[3], hue_distance;
  cv::split(layers.lab, channels);
  cv::magnitude(channels[1] - stats.lab[1], channels[2] - stats.lab[2], hue_distance);
  const cv::Mat off_colour = smoothstep(hue_distance, 10.0, 18.0);
  cv::Mat p = (1.0 - busy).mul(1.0 - skin.mul(cv::max(dark, off_colour)));
  // Grow the rejected areas a little and soften their edges.
  const int r = std::max(1, cvRound(0.03 * unit));
  cv::erode(p, p, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * r + 1, 2 * r + 1)));
  cv::GaussianBlur(p, p, cv::Size(), std::max(0.5, 0.03 * unit));
  return p;
}

cv::Mat upper_skin(const cv::Mat& skin, int nose_row) {
  cv::Mat out = skin.clone();
  out.rowRange(std::clamp(nose_row, 0, out.rows), out.rows).setTo(0);
  return out;
}

}  // namespace makeup_detail

cv::Mat makeup_plausibility(const cv::Mat& bgr, const Landmarks& landmarks, const MakeupRegions& regions) {
  using namespace makeup_detail;
  const double unit = eye_distance(landmarks);
  const LabLayers layers = split_layers(bgr, unit);
  const SkinStats stats = skin_stats(layers, upper_skin(regions.skin, cvRound(landmarks[33].y)));
  return plausibility(layers, stats, regions.skin, unit);
}

}  // namespace facemix
