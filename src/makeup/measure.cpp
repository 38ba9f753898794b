// Colour difference (CIEDE2000, Sharma, Wu and Dalal's formulation) for the
// makeup figures and tests.
#include <cmath>
#include <limits>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "facemix/makeup.h"
#include "makeup_internal.h"

namespace facemix {
namespace {

constexpr double kDeg = M_PI / 180.0;

double hue_degrees(double b, double a) {
  if (a == 0 && b == 0) return 0;
  const double h = std::atan2(b, a) / kDeg;
  return h < 0 ? h + 360 : h;
}

}  // namespace

double ciede2000(const cv::Vec3d& lab1, const cv::Vec3d& lab2) {
  const double c1 = std::hypot(lab1[1], lab1[2]), c2 = std::hypot(lab2[1], lab2[2]);
  const double c_mean7 = std::pow((c1 + c2) / 2, 7);
  const double g = 0.5 * (1 - std::sqrt(c_mean7 / (c_mean7 + std::pow(25.0, 7))));
  const double a1 = (1 + g) * lab1[1], a2 = (1 + g) * lab2[1];
  const double cp1 = std::hypot(a1, lab1[2]), cp2 = std::hypot(a2, lab2[2]);
  const double h1 = hue_degrees(lab1[2], a1), h2 = hue_degrees(lab2[2], a2);

  const double dl = lab2[0] - lab1[0], dc = cp2 - cp1;
  double dh = 0;
  if (cp1 * cp2 != 0) {
    dh = h2 - h1;
    if (dh > 180) dh -= 360;
    else if (dh < -180) dh += 360;
  }
  const double dhh = 2 * std::sqrt(cp1 * cp2) * std::sin(dh / 2 * kDeg);

  const double l_mean = (lab1[0] + lab2[0]) / 2, cp_mean = (cp1 + cp2) / 2;
  double h_mean = h1 + h2;
  if (cp1 * cp2 != 0) {
    if (std::abs(h1 - h2) <= 180) h_mean = (h1 + h2) / 2;
    else h_mean = (h1 + h2 < 360) ? (h1 + h2 + 360) / 2 : (h1 + h2 - 360) / 2;
  }
  const double t = 1 - 0.17 * std::cos((h_mean - 30) * kDeg) + 0.24 * std::cos(2 * h_mean * kDeg) +
                   0.32 * std::cos((3 * h_mean + 6) * kDeg) - 0.20 * std::cos((4 * h_mean - 63) * kDeg);
  const double d_theta = 30 * std::exp(-std::pow((h_mean - 275) / 25, 2));
  const double cp_mean7 = std::pow(cp_mean, 7);
  const double rc = 2 * std::sqrt(cp_mean7 / (cp_mean7 + std::pow(25.0, 7)));
  const double l50 = (l_mean - 50) * (l_mean - 50);
  const double sl = 1 + 0.015 * l50 / std::sqrt(20 + l50);
  const double sc = 1 + 0.045 * cp_mean, sh = 1 + 0.015 * cp_mean * t;
  const double rt = -std::sin(2 * d_theta * kDeg) * rc;
  const double x = dl / sl, y = dc / sc, z = dhh / sh;
  return std::sqrt(x * x + y * y + z * z + rt * y * z);
}

namespace {

cv::Mat lab_of(const cv::Mat& bgr) {
  cv::Mat f, lab;
  bgr.convertTo(f, CV_32FC3, 1.0 / 255);
  cv::cvtColor(f, lab, cv::COLOR_BGR2Lab);
  return lab;
}

// Mean of distance(lab pixel, x, y) over mask > 0.5.
template <typename Distance>
double mean_over_mask(const cv::Mat& mask, Distance distance) {
  double sum = 0;
  long count = 0;
  for (int y = 0; y < mask.rows; ++y)
    for (int x = 0; x < mask.cols; ++x) {
      if (mask.at<float>(y, x) <= 0.5f) continue;
      sum += distance(y, x);
      ++count;
    }
  return count ? sum / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

double mean_ciede2000(const cv::Mat& bgr1, const cv::Mat& bgr2, const cv::Mat& mask) {
  if (bgr1.type() != CV_8UC3 || bgr2.type() != CV_8UC3 || bgr1.size() != bgr2.size() ||
      mask.type() != CV_32F || mask.size() != bgr1.size())
    throw std::invalid_argument("mean_ciede2000: needs two CV_8UC3 images and a CV_32F mask of one size");
  const cv::Mat lab1 = lab_of(bgr1), lab2 = lab_of(bgr2);
  return mean_over_mask(mask, [&](int y, int x) {
    return ciede2000(lab1.at<cv::Vec3f>(y, x), lab2.at<cv::Vec3f>(y, x));
  });
}

double mean_ciede2000(const cv::Mat& bgr, const cv::Vec3d& colour, const cv::Mat& mask) {
  if (bgr.type() != CV_8UC3 || mask.type() != CV_32F || mask.size() != bgr.size())
    throw std::invalid_argument("mean_ciede2000: needs a CV_8UC3 image and a CV_32F mask of its size");
  const cv::Mat lab = lab_of(bgr);
  return mean_over_mask(mask, [&](int y, int x) { return ciede2000(lab.at<cv::Vec3f>(y, x), colour); });
}

cv::Vec3d lip_colour(const MakeupCrop& face) {
  if (face.image.type() != CV_8UC3 || face.image.rows != face.image.cols || face.image.rows < 64)
    throw std::invalid_argument("lip_colour: needs a CV_8UC3 square crop >= 64 px");
  const double unit = makeup_detail::eye_distance(face.landmarks);
  const makeup_detail::LabLayers layers = makeup_detail::split_layers(face.image, unit);
  const makeup_detail::LipStats s =
      makeup_detail::lip_stats(layers, makeup_regions(face.landmarks, face.image.size()).lips);
  return {s.base_l, s.ab[0], s.ab[1]};
}

}  // namespace facemix
