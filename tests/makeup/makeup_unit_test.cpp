// Unit tests of the makeup stage that need no photo: the colour difference,
// --parts parsing, region masks and the aligned-frame transfer on synthetic faces.
#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "../morph/synthetic_face.h"
#include "facemix/errors.h"
#include "facemix/makeup.h"

using namespace facemix;
using facemix::test::synthetic_face;

namespace {

constexpr int kSide = 256;

cv::Mat polygon_mask(const Landmarks& lm, std::initializer_list<int> indices) {
  std::vector<cv::Point> poly;
  for (int i : indices) poly.emplace_back(cvRound(lm[static_cast<std::size_t>(i)].x), cvRound(lm[static_cast<std::size_t>(i)].y));
  cv::Mat m(kSide, kSide, CV_8U, cv::Scalar(0));
  cv::fillPoly(m, std::vector<std::vector<cv::Point>>{poly}, cv::Scalar(255));
  cv::erode(m, m, cv::Mat());  // strictly inside
  return m;
}

}  // namespace

// Sharma, Wu and Dalal (2005), table 1: pairs 1, 7, 17 and 25.
TEST(Ciede2000, MatchesPublishedTestPairs) {
  EXPECT_NEAR(ciede2000({50, 2.6772, -79.7751}, {50, 0, -82.7485}), 2.0425, 1e-4);
  EXPECT_NEAR(ciede2000({50, 0, 0}, {50, -1, 2}), 2.3669, 1e-4);
  EXPECT_NEAR(ciede2000({50, 2.5, 0}, {73, 25, -18}), 27.1492, 1e-4);
  EXPECT_NEAR(ciede2000({60.2574, -34.0099, 36.2677}, {60.4626, -34.1751, 39.4387}), 1.2644, 1e-4);
  EXPECT_EQ(ciede2000({40, 10, 10}, {40, 10, 10}), 0.0);
}

TEST(MakeupParts, ParsesListsAndRefusesUnknownWords) {
  EXPECT_EQ(parse_makeup_parts("all"), kMakeupAll);
  EXPECT_EQ(parse_makeup_parts("lips"), kMakeupLips);
  EXPECT_EQ(parse_makeup_parts("lips,blush"), kMakeupLips | kMakeupBlush);
  EXPECT_THROW(parse_makeup_parts("lips,nose"), UsageError);
  EXPECT_THROW(parse_makeup_parts(""), UsageError);
}

TEST(MakeupRegions, KeepEyesTeethAndOutsideUntouched) {
  const MorphFace face = synthetic_face(kSide);
  const MakeupRegions r = makeup_regions(face.landmarks, {kSide, kSide});
  const cv::Mat eye_l = polygon_mask(face.landmarks, {36, 37, 38, 39, 40, 41});
  const cv::Mat eye_r = polygon_mask(face.landmarks, {42, 43, 44, 45, 46, 47});
  const cv::Mat inner_mouth = polygon_mask(face.landmarks, {60, 61, 62, 63, 64, 65, 66, 67});
  const cv::Mat outer_mouth = polygon_mask(face.landmarks, {48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59});
  double max_value = 0;
  cv::minMaxLoc(r.eyes, nullptr, &max_value, nullptr, nullptr, eye_l | eye_r);
  EXPECT_EQ(max_value, 0.0) << "eye shadow reaches into the eye";
  EXPECT_GT(cv::countNonZero(r.eyes > 0.5), 100);
  if (cv::countNonZero(inner_mouth) > 0) {
    cv::minMaxLoc(r.lips, nullptr, &max_value, nullptr, nullptr, inner_mouth);
    EXPECT_EQ(max_value, 0.0) << "lipstick on the teeth";
  }
  EXPECT_GT(cv::mean(r.lips, outer_mouth & ~inner_mouth)[0], 0.5);
  for (const cv::Mat* m : {&r.lips, &r.eyes, &r.skin, &r.blush}) {
    cv::minMaxLoc(*m, nullptr, &max_value, nullptr, nullptr, r.face <= 0);
    EXPECT_EQ(max_value, 0.0) << "a region leaves the face hull";
  }
  EXPECT_GT(cv::countNonZero(r.blush > 0.3), 50);
  EXPECT_GT(cv::countNonZero(r.skin > 0.5), 2000);
}

// A reference with red lips onto a photo with pale lips: only the lips change.
TEST(TransferMakeup, LipsOnlyMovesLipColourAndNothingElse) {
  const MorphFace photo = synthetic_face(kSide);
  MorphFace reference = synthetic_face(kSide);
  const cv::Mat lips = polygon_mask(reference.landmarks, {48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59});
  reference.image.setTo(cv::Scalar(40, 30, 190), lips);
  MakeupOptions options;
  options.parts = kMakeupLips;
  const AlignedMakeup m = transfer_makeup({reference.image, reference.landmarks}, {photo.image, photo.landmarks}, options);
  const MakeupRegions r = makeup_regions(photo.landmarks, {kSide, kSide});
  const double before = mean_ciede2000(photo.image, m.reference, r.lips);
  const double after = mean_ciede2000(m.image, m.reference, r.lips);
  EXPECT_LT(after, 0.5 * before) << "before " << before << " after " << after;
  cv::Mat diff;
  cv::absdiff(m.image, photo.image, diff);
  cv::Mat changed;
  cv::cvtColor(diff, changed, cv::COLOR_BGR2GRAY);
  EXPECT_EQ(cv::countNonZero(changed & (r.lips <= 0)), 0) << "pixels outside the lips changed";
  EXPECT_EQ(cv::norm(aligned_with_makeup(m, 0.0), photo.image, cv::NORM_INF), 0.0);
}

TEST(TransferMakeup, SameInputsSameBytes) {
  const MorphFace photo = synthetic_face(kSide);
  test::FaceParams p;
  p.skin = cv::Scalar(90, 120, 200);
  const MorphFace reference = synthetic_face(kSide, p);
  const AlignedMakeup a = transfer_makeup({reference.image, reference.landmarks}, {photo.image, photo.landmarks}, {});
  const AlignedMakeup b = transfer_makeup({reference.image, reference.landmarks}, {photo.image, photo.landmarks}, {});
  EXPECT_EQ(cv::norm(a.change, b.change, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0.0);
}
