#include "synthetic_face.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace facemix::test {
namespace {

void ellipse_points(Landmarks& lm, int first, int count, cv::Point2d c, double rx, double ry,
                    double a0, double a1, bool closed) {
  for (int i = 0; i < count; ++i) {
    const double t = closed ? static_cast<double>(i) / count : static_cast<double>(i) / (count - 1);
    const double a = a0 + (a1 - a0) * t;
    lm[first + i] = {c.x + rx * std::cos(a), c.y + ry * std::sin(a)};
  }
}

std::vector<cv::Point> to_int(const Landmarks& lm, int first, int count) {
  std::vector<cv::Point> pts;
  for (int i = first; i < first + count; ++i) pts.emplace_back(cvRound(lm[i].x), cvRound(lm[i].y));
  return pts;
}

}  // namespace

Landmarks synthetic_landmarks(int side, const FaceParams& p) {
  const double s = side, cx = s / 2;
  Landmarks lm{};
  // Jaw: the lower half of an ellipse (y grows downwards), image left to right through the chin.
  ellipse_points(lm, 0, 17, {cx, 0.45 * s}, p.jaw_width * s, 0.32 * s, M_PI, 0.0, false);
  const double left_eye = cx - p.eye_spacing * s / 2, right_eye = cx + p.eye_spacing * s / 2;
  for (int i = 0; i < 5; ++i) {  // brows
    const double t = i / 4.0;
    lm[17 + i] = {left_eye - 0.07 * s + t * 0.14 * s, 0.37 * s - 0.02 * s * std::sin(M_PI * t)};
    lm[22 + i] = {right_eye - 0.07 * s + t * 0.14 * s, 0.37 * s - 0.02 * s * std::sin(M_PI * t)};
  }
  for (int i = 0; i < 4; ++i)  // nose bridge down to the tip (30)
    lm[27 + i] = {cx, 0.42 * s + (p.nose_y - 0.42) * s * i / 3.0};
  for (int i = 0; i < 5; ++i)  // nostrils
    lm[31 + i] = {cx - 0.05 * s + 0.025 * s * i, p.nose_y * s + 0.03 * s - 0.01 * s * std::sin(M_PI * i / 4)};
  ellipse_points(lm, 36, 6, {left_eye, 0.43 * s}, 0.045 * s, 0.018 * s, M_PI, 3 * M_PI, true);
  ellipse_points(lm, 42, 6, {right_eye, 0.43 * s}, 0.045 * s, 0.018 * s, M_PI, 3 * M_PI, true);
  ellipse_points(lm, 48, 12, {cx, p.mouth_y * s}, 0.10 * s, 0.04 * s, M_PI, 3 * M_PI, true);
  ellipse_points(lm, 60, 8, {cx, p.mouth_y * s}, 0.07 * s, 0.015 * s, M_PI, 3 * M_PI, true);
  return lm;
}

MorphFace synthetic_face(int side, const FaceParams& p) {
  MorphFace f;
  f.landmarks = synthetic_landmarks(side, p);
  f.image = cv::Mat(side, side, CV_8UC3, p.background);
  // Background texture: diagonal stripes, so a warp of the background shows.
  for (int y = 0; y < side; ++y)
    for (int x = 0; x < side; ++x)
      if (((x + y) / std::max(2, side / 16)) % 2) f.image.at<cv::Vec3b>(y, x) = cv::Vec3b(170, 100, 40);
  std::vector<cv::Point> face_outline = to_int(f.landmarks, 0, 17);
  face_outline.emplace_back(cvRound(f.landmarks[16].x), cvRound(0.25 * side));
  face_outline.emplace_back(cvRound(f.landmarks[0].x), cvRound(0.25 * side));
  cv::fillPoly(f.image, std::vector<std::vector<cv::Point>>{face_outline}, p.skin, cv::LINE_AA);
  cv::polylines(f.image, to_int(f.landmarks, 17, 5), false, cv::Scalar(40, 50, 60), std::max(1, side / 100));
  cv::polylines(f.image, to_int(f.landmarks, 22, 5), false, cv::Scalar(40, 50, 60), std::max(1, side / 100));
  cv::fillPoly(f.image, std::vector<std::vector<cv::Point>>{to_int(f.landmarks, 36, 6)}, cv::Scalar(60, 40, 30));
  cv::fillPoly(f.image, std::vector<std::vector<cv::Point>>{to_int(f.landmarks, 42, 6)}, cv::Scalar(60, 40, 30));
  cv::fillPoly(f.image, std::vector<std::vector<cv::Point>>{to_int(f.landmarks, 48, 12)}, cv::Scalar(60, 60, 180));
  cv::circle(f.image, cv::Point(cvRound(f.landmarks[30].x), cvRound(f.landmarks[30].y)),
             std::max(2, side / 40), cv::Scalar(0, 255, 0), cv::FILLED);
  return f;
}

cv::Point2d green_centroid(const cv::Mat& bgr) {
  double sx = 0, sy = 0, n = 0;
  for (int y = 0; y < bgr.rows; ++y)
    for (int x = 0; x < bgr.cols; ++x) {
      const auto v = bgr.at<cv::Vec3b>(y, x);
      if (v[1] > 200 && v[0] < 80 && v[2] < 80) sx += x, sy += y, n += 1;
    }
  return n > 0 ? cv::Point2d(sx / n, sy / n) : cv::Point2d(-1, -1);
}

}  // namespace facemix::test
