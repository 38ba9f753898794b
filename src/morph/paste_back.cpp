// Paste-back of a blended face into a photo: inverse alignment, feathered
// hull mask, Lab colour matching.
#include "facemix/paste_back.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace facemix {
namespace {

std::vector<cv::Point2f> hull_of(const Landmarks& landmarks) {
  std::vector<cv::Point2f> points, hull;
  for (const auto& p : landmarks) points.emplace_back(static_cast<float>(p.x), static_cast<float>(p.y));
  cv::convexHull(points, hull);
  return hull;
}

// Mean and standard deviation of each channel, weighted by `weight`.
void weighted_stats(const cv::Mat& lab, const cv::Mat& weight, cv::Vec3d& mean, cv::Vec3d& sd) {
  cv::Vec3d sum(0, 0, 0), sum2(0, 0, 0);
  double total = 0;
  for (int y = 0; y < lab.rows; ++y) {
    const auto* px = lab.ptr<cv::Vec3f>(y);
    const auto* w = weight.ptr<float>(y);
    for (int x = 0; x < lab.cols; ++x) {
      if (w[x] <= 0.f) continue;
      total += w[x];
      for (int c = 0; c < 3; ++c) {
        sum[c] += w[x] * px[x][c];
        sum2[c] += w[x] * px[x][c] * px[x][c];
      }
    }
  }
  for (int c = 0; c < 3; ++c) {
    mean[c] = total > 0 ? sum[c] / total : 0;
    sd[c] = total > 0 ? std::sqrt(std::max(0.0, sum2[c] / total - mean[c] * mean[c])) : 0;
  }
}

// Shifts and scales `face` (BGR float 0..1) so that its Lab statistics under
// `mask` equal the photo's there.
void match_colour(cv::Mat& face, const cv::Mat& photo, const cv::Mat& mask) {
  cv::Mat face_lab, photo_lab;
  cv::cvtColor(face, face_lab, cv::COLOR_BGR2Lab);
  cv::cvtColor(photo, photo_lab, cv::COLOR_BGR2Lab);
  cv::Vec3d fm, fs, pm, ps;
  weighted_stats(face_lab, mask, fm, fs);
  weighted_stats(photo_lab, mask, pm, ps);
  cv::Vec3d gain;
  // A flat region (sd ~ 0) would blow up the gain; limits keep it sane.
  for (int c = 0; c < 3; ++c) gain[c] = std::clamp(ps[c] / std::max(fs[c], 1e-3), 0.25, 4.0);
  face_lab.forEach<cv::Vec3f>([&](cv::Vec3f& v, const int*) {
    for (int c = 0; c < 3; ++c) v[c] = static_cast<float>((v[c] - fm[c]) * gain[c] + pm[c]);
  });
  cv::cvtColor(face_lab, face, cv::COLOR_Lab2BGR);
}

}  // namespace

cv::Mat face_mask(const Landmarks& landmarks, cv::Size size, double feather) {
  if (size.empty() || !(feather > 0)) throw std::invalid_argument("face_mask: bad size or feather");
  const std::vector<cv::Point2f> hull = hull_of(landmarks);
  // Sub-pixel polygon: 8 fractional bits.
  std::vector<cv::Point> fixed;
  for (const auto& p : hull) fixed.emplace_back(cvRound(p.x * 256.0), cvRound(p.y * 256.0));
  cv::Mat inside(size, CV_8U, cv::Scalar(0));
  cv::fillConvexPoly(inside, fixed, cv::Scalar(255), cv::LINE_8, 8);
  const cv::Rect2f box = cv::boundingRect(hull);
  const double width = std::max(1.0, feather * std::hypot(box.width, box.height));
  cv::Mat distance;  // to the nearest pixel outside the hull
  cv::distanceTransform(inside, distance, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  cv::Mat mask(size, CV_32F);
  for (int y = 0; y < size.height; ++y) {
    const auto* d = distance.ptr<float>(y);
    auto* m = mask.ptr<float>(y);
    for (int x = 0; x < size.width; ++x) {
      const double t = std::min(1.0, d[x] / width);
      m[x] = static_cast<float>(t * t * (3 - 2 * t));  // smoothstep: no visible edge
    }
  }
  return mask;
}

namespace {

// Crop-frame images resampled onto the photo's pixels around the hull of
// `crop_landmarks`: the one place that maps a crop back through the inverse
// alignment, for paste_back() and paste_back_change().
struct PhotoSamples {
  cv::Rect roi;                  // where in the photo; empty when outside it
  std::vector<cv::Mat> samples;  // one per crop, roi-sized
};

struct CropToSample {
  const cv::Mat* image;
  int border;  // cv::BORDER_REPLICATE or cv::BORDER_CONSTANT (0)
};

PhotoSamples sample_into_photo(cv::Size photo_size, const AlignmentPlan& plan, const Landmarks& crop_landmarks,
                               const std::vector<CropToSample>& crops) {
  PhotoSamples out;
  const cv::Matx23d& a2o = plan.aligned_to_original;
  // Only the hull's neighbourhood of the photo is touched.
  std::vector<cv::Point2f> corners;
  for (const auto& p : hull_of(crop_landmarks))
    corners.emplace_back(static_cast<float>(a2o(0, 0) * p.x + a2o(0, 1) * p.y + a2o(0, 2)),
                         static_cast<float>(a2o(1, 0) * p.x + a2o(1, 1) * p.y + a2o(1, 2)));
  out.roi = (cv::boundingRect(corners) + cv::Size(4, 4) - cv::Point(2, 2)) &
            cv::Rect(0, 0, photo_size.width, photo_size.height);
  if (out.roi.empty()) return out;

  cv::Matx23d to_source = plan.original_to_aligned;  // photo pixel -> crop pixel
  // Original pixels per crop pixel; below 1 the bilinear sampling would alias,
  // so the crop is first area-averaged down to about the photo's scale.
  const double scale = std::sqrt(std::abs(a2o(0, 0) * a2o(1, 1) - a2o(0, 1) * a2o(1, 0)));
  const int crop_side = plan.output_size;
  int side = crop_side;
  if (scale < 1.0) {
    side = std::max(2, static_cast<int>(std::lround(crop_side * scale)));
    const double r = static_cast<double>(side) / crop_side;
    // Pixel centres: q' = (q + 0.5) r - 0.5.
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) to_source(i, j) *= r;
      to_source(i, 2) += 0.5 * r - 0.5;
    }
  }
  cv::Matx23d roi_to_source = to_source;  // ROI pixel p -> crop: to_source * (p + origin)
  roi_to_source(0, 2) += to_source(0, 0) * out.roi.x + to_source(0, 1) * out.roi.y;
  roi_to_source(1, 2) += to_source(1, 0) * out.roi.x + to_source(1, 1) * out.roi.y;
  for (const auto& crop : crops) {
    cv::Mat source = *crop.image, sample;
    if (side != crop_side) cv::resize(*crop.image, source, cv::Size(side, side), 0, 0, cv::INTER_AREA);
    cv::warpAffine(source, sample, roi_to_source, out.roi.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                   crop.border, cv::Scalar::all(0));
    out.samples.push_back(sample);
  }
  return out;
}

}  // namespace

cv::Mat paste_back(const cv::Mat& photo, const AlignmentPlan& plan, const cv::Mat& face,
                   const Landmarks& face_landmarks, const PasteOptions& options) {
  if (photo.type() != CV_8UC3 || photo.empty()) throw std::invalid_argument("paste_back: photo must be CV_8UC3");
  if (face.type() != CV_8UC3 || face.rows != face.cols || face.rows != plan.output_size)
    throw std::invalid_argument("paste_back: face must be CV_8UC3 of the plan's output size");

  const cv::Mat mask = face_mask(face_landmarks, face.size(), options.feather);
  const PhotoSamples s = sample_into_photo(photo.size(), plan, face_landmarks,
                                           {{&face, cv::BORDER_REPLICATE}, {&mask, cv::BORDER_CONSTANT}});
  cv::Mat out = photo.clone();
  if (s.roi.empty()) return out;
  const cv::Mat& face_roi = s.samples[0];
  const cv::Mat& mask_roi = s.samples[1];
  const cv::Rect roi = s.roi;

  cv::Mat photo_roi = out(roi), face_f, photo_f;
  face_roi.convertTo(face_f, CV_32FC3, 1.0 / 255);
  photo_roi.convertTo(photo_f, CV_32FC3, 1.0 / 255);
  if (options.match_colour) match_colour(face_f, photo_f, mask_roi);

  for (int y = 0; y < roi.height; ++y) {
    const auto* m = mask_roi.ptr<float>(y);
    const auto* f = face_f.ptr<cv::Vec3f>(y);
    const auto* p = photo_f.ptr<cv::Vec3f>(y);
    auto* o = photo_roi.ptr<cv::Vec3b>(y);
    for (int x = 0; x < roi.width; ++x) {
      if (m[x] <= 0.f) continue;  // outside the face: the photo's pixel, untouched
      const float k = std::min(1.f, m[x]);
      for (int c = 0; c < 3; ++c)
        o[x][c] = cv::saturate_cast<uchar>(255.f * (p[x][c] + k * (f[x][c] - p[x][c])));
    }
  }
  return out;
}

cv::Mat paste_back_change(const cv::Mat& photo, const AlignmentPlan& plan, const cv::Mat& change,
                          const Landmarks& face_landmarks, double gain) {
  if (photo.type() != CV_8UC3 || photo.empty())
    throw std::invalid_argument("paste_back_change: photo must be CV_8UC3");
  if (change.type() != CV_32FC3 || change.rows != change.cols || change.rows != plan.output_size)
    throw std::invalid_argument("paste_back_change: change must be CV_32FC3 of the plan's output size");
  cv::Mat out = photo.clone();
  if (gain == 0) return out;
  const PhotoSamples s = sample_into_photo(photo.size(), plan, face_landmarks, {{&change, cv::BORDER_CONSTANT}});
  if (s.roi.empty()) return out;
  cv::Mat photo_roi = out(s.roi);
  const float k = static_cast<float>(255.0 * gain);
  for (int y = 0; y < s.roi.height; ++y) {
    const auto* d = s.samples[0].ptr<cv::Vec3f>(y);
    auto* o = photo_roi.ptr<cv::Vec3b>(y);
    for (int x = 0; x < s.roi.width; ++x) {
      if (d[x][0] == 0.f && d[x][1] == 0.f && d[x][2] == 0.f) continue;  // unchanged, bit for bit
      for (int c = 0; c < 3; ++c) o[x][c] = cv::saturate_cast<uchar>(o[x][c] + k * d[x][c]);
    }
  }
  return out;
}

}  // namespace facemix
