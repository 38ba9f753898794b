// Makeup regions from the 68 landmarks: lips, eye shadow and liner, skin
// (foundation), cheeks (blush), each a feathered CV_32F mask.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "facemix/errors.h"
#include "facemix/makeup.h"
#include "facemix/paste_back.h"
#include "makeup_internal.h"

namespace facemix {
namespace {

cv::Point2d mean_of(const Landmarks& lm, int first, int last) {
  cv::Point2d sum(0, 0);
  for (int i = first; i <= last; ++i) sum += lm[static_cast<std::size_t>(i)];
  return sum / static_cast<double>(last - first + 1);
}

// Fills a polygon (sub-pixel, 8 fractional bits) into a CV_32F mask with 1.
void fill_polygon(cv::Mat& mask, const std::vector<cv::Point2d>& polygon) {
  std::vector<cv::Point> fixed;
  for (const auto& p : polygon) fixed.emplace_back(cvRound(p.x * 256.0), cvRound(p.y * 256.0));
  cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{fixed}, cv::Scalar(1.0), cv::LINE_8, 8);
}

std::vector<cv::Point2d> points(const Landmarks& lm, std::initializer_list<int> indices) {
  std::vector<cv::Point2d> out;
  for (int i : indices) out.push_back(lm[static_cast<std::size_t>(i)]);
  return out;
}

cv::Mat blurred(const cv::Mat& mask, double sigma) {
  cv::Mat out;
  cv::GaussianBlur(mask, out, cv::Size(), std::max(0.5, sigma));
  return out;
}

// The lid-to-brow band of one eye: upper lid corner to corner, then the brow
// pulled a quarter of the way towards the eye (the brow hairs stay), with a
// short wing past the outer corner.
std::vector<cv::Point2d> shadow_band(const Landmarks& lm, std::initializer_list<int> lid,
                                     std::initializer_list<int> brow, int outer, int inner) {
  std::vector<cv::Point2d> poly = points(lm, lid);
  const cv::Point2d centre = (lm[static_cast<std::size_t>(outer)] + lm[static_cast<std::size_t>(inner)]) * 0.5;
  const cv::Point2d out = lm[static_cast<std::size_t>(outer)];
  const cv::Point2d wing = out + (out - centre) * 0.25 + cv::Point2d(0, -0.15 * cv::norm(out - centre));
  std::vector<cv::Point2d> top;
  for (const auto& b : points(lm, brow)) top.push_back(b + (centre - b) * 0.25);
  poly.insert(poly.end(), top.begin(), top.end());
  // lid runs outer -> inner or inner -> outer; the wing goes next to the outer corner
  if (*lid.begin() == outer)
    poly.insert(poly.begin(), wing);
  else
    poly.push_back(wing);
  return poly;
}

}  // namespace

double makeup_detail::eye_distance(const Landmarks& lm) { return cv::norm(mean_of(lm, 36, 41) - mean_of(lm, 42, 47)); }

unsigned parse_makeup_parts(const std::string& list) {
  unsigned parts = 0;
  std::stringstream in(list);
  std::string word;
  while (std::getline(in, word, ',')) {
    if (word == "lips") parts |= kMakeupLips;
    else if (word == "eyes") parts |= kMakeupEyes;
    else if (word == "skin") parts |= kMakeupSkin;
    else if (word == "blush") parts |= kMakeupBlush;
    else if (word == "all") parts |= kMakeupAll;
    else
      throw UsageError("--parts " + list + ": unknown part '" + word + "' (lips, eyes, skin, blush or all)");
  }
  if (parts == 0) throw UsageError("--parts: empty list (lips, eyes, skin, blush or all)");
  return parts;
}

MakeupRegions makeup_regions(const Landmarks& lm, cv::Size size) {
  if (size.width < 64 || size.height < 64) throw std::invalid_argument("makeup_regions: size under 64 px");
  const double d = makeup_detail::eye_distance(lm);  // every distance below scales with the face
  const auto zeros = [&] { return cv::Mat(size, CV_32F, cv::Scalar(0)); };
  MakeupRegions r;
  r.face = face_mask(lm, size, 0.03);

  cv::Mat eye_hard = zeros(), mouth_outer = zeros(), mouth_inner = zeros(), brows = zeros();
  fill_polygon(eye_hard, points(lm, {36, 37, 38, 39, 40, 41}));
  fill_polygon(eye_hard, points(lm, {42, 43, 44, 45, 46, 47}));
  fill_polygon(mouth_outer, points(lm, {48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59}));
  fill_polygon(mouth_inner, points(lm, {60, 61, 62, 63, 64, 65, 66, 67}));
  for (const auto& brow : {points(lm, {17, 18, 19, 20, 21}), points(lm, {22, 23, 24, 25, 26})}) {
    std::vector<cv::Point> line;
    for (const auto& p : brow) line.emplace_back(cvRound(p.x), cvRound(p.y));
    cv::polylines(brows, line, false, cv::Scalar(1.0), std::max(1, cvRound(0.12 * d)), cv::LINE_AA);
  }
  const cv::Mat not_eye = 1.0 - eye_hard;

  // Lips: the outer contour minus the mouth opening (teeth stay the photo's).
  cv::Mat lips = blurred(mouth_outer - mouth_inner, 0.012 * d);
  lips.setTo(0, mouth_inner > 0);
  r.lips = lips.mul(r.face);

  // Eyes: lid-to-brow band plus a ring round each eye (liner), never the eye.
  cv::Mat eyes = zeros();
  fill_polygon(eyes, shadow_band(lm, {36, 37, 38, 39}, {21, 20, 19, 18, 17}, 36, 39));
  fill_polygon(eyes, shadow_band(lm, {42, 43, 44, 45}, {26, 25, 24, 23, 22}, 45, 42));
  cv::Mat ring;
  cv::dilate(eye_hard, ring, cv::getStructuringElement(cv::MORPH_ELLIPSE,
                                                       cv::Size(1, 1) * (2 * cvRound(0.07 * d) + 1)));
  eyes = cv::max(eyes, ring);
  eyes = blurred(eyes, 0.03 * d).mul(1.0 - blurred(brows, 0.03 * d));
  r.eyes = eyes.mul(not_eye).mul(r.face);

  // Skin: the face minus eyes (with their shadow), brows and mouth.
  cv::Mat holes = cv::max(eyes, brows);
  holes = cv::max(holes, eye_hard);
  holes = cv::max(holes, mouth_outer);
  cv::dilate(holes, holes, cv::getStructuringElement(cv::MORPH_ELLIPSE,
                                                     cv::Size(1, 1) * (2 * cvRound(0.04 * d) + 1)));
  cv::Mat skin = 1.0 - blurred(cv::min(holes, 1.0), 0.04 * d);
  r.skin = skin.mul(r.face);

  // Blush: an ellipse on each cheek, between the lower lid, the nose wing and the jaw.
  cv::Mat cheeks = zeros();
  for (const auto& [jaw, nose, lid] : {std::array<int, 3>{2, 31, 41}, std::array<int, 3>{14, 35, 46}}) {
    const cv::Point2d c = lm[jaw] * 0.35 + lm[nose] * 0.35 + lm[lid] * 0.3;
    cv::ellipse(cheeks, cv::Point(cvRound(c.x), cvRound(c.y)), cv::Size(cvRound(0.2 * d), cvRound(0.14 * d)), 0, 0,
                360, cv::Scalar(1.0), cv::FILLED, cv::LINE_AA);
  }
  r.blush = blurred(cheeks, 0.08 * d).mul(r.skin);
  return r;
}

}  // namespace facemix
