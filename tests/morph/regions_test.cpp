// Separate shape and appearance mixing: region masks and MorphMix renders.
#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "facemix/morph.h"
#include "synthetic_face.h"

namespace facemix::test {
namespace {

constexpr int kSide = 256;

cv::Point2d centre(const Landmarks& lm, int first, int last) {
  cv::Point2d s(0, 0);
  for (int k = first; k <= last; ++k) s += lm[k];
  return s / static_cast<double>(last - first + 1);
}

float at(const cv::Mat& m, cv::Point2d p) { return m.at<float>(cvRound(p.y), cvRound(p.x)); }

TEST(Regions, MasksAreFeatheredPartsOfAtMostOne) {
  const Landmarks lm = synthetic_landmarks(kSide);
  const auto masks = face_region_masks(lm, cv::Size(kSide, kSide));
  cv::Mat sum(kSide, kSide, CV_32FC1, cv::Scalar(0));
  for (const auto& m : masks) {
    ASSERT_EQ(m.type(), CV_32FC1);
    double lo, hi;
    cv::minMaxLoc(m, &lo, &hi);
    EXPECT_GE(lo, 0.0);
    EXPECT_LE(hi, 1.0 + 1e-6);
    sum += m;
  }
  double max_sum;
  cv::minMaxLoc(sum, nullptr, &max_sum);
  EXPECT_LE(max_sum, 1.0 + 1e-5);
  EXPECT_GT(at(masks[kRegionEyes], centre(lm, 36, 41)), 0.9);
  EXPECT_GT(at(masks[kRegionEyes], centre(lm, 42, 47)), 0.9);
  EXPECT_GT(at(masks[kRegionMouth], centre(lm, 48, 59)), 0.9);
  EXPECT_GT(at(masks[kRegionNose], lm[30]), 0.9);
  EXPECT_GT(at(masks[kRegionFace], (lm[3] + lm[31]) / 2), 0.9);  // a cheek
  EXPECT_LT(sum.at<float>(2, 2), 1e-6f);                          // the backdrop's corner
  // Feathered: some values strictly between 0 and 1.
  EXPECT_GT(cv::countNonZero((masks[kRegionMouth] > 0.1) & (masks[kRegionMouth] < 0.9)), 20);
}

TEST(Regions, UniformMixRendersExactlyAsPlainWeights) {
  FaceParams narrow;
  narrow.eye_spacing = 0.20;
  const std::vector<MorphFace> faces = {synthetic_face(kSide), synthetic_face(kSide, narrow)};
  const Morpher morpher(faces);
  const std::vector<double> w = {0.3, 0.7};
  const MorphResult plain = morpher.render(w);
  const MorphResult mixed = morpher.render(MorphMix::uniform(w));
  EXPECT_EQ(cv::norm(plain.image, mixed.image, cv::NORM_INF), 0.0);
  EXPECT_TRUE(MorphMix::uniform(w).is_uniform());
}

TEST(Regions, EachRegionTakesItsOwnWeights) {
  FaceParams other;
  other.skin = cv::Scalar(60, 90, 140);
  other.background = cv::Scalar(30, 200, 90);
  const std::vector<MorphFace> faces = {synthetic_face(kSide), synthetic_face(kSide, other)};
  const Morpher morpher(faces);
  MorphMix mix = MorphMix::uniform({0.5, 0.5});
  mix.regions[kRegionFace] = {1.0, 0.0};  // the rest of the face from the first input only
  mix.backdrop = {0.0, 1.0};              // the backdrop from the second only
  const MorphResult r = morpher.render(mix);
  const Landmarks& lm = faces[0].landmarks;  // same geometry: no warp
  const cv::Point cheek((lm[3] + lm[31]) / 2);
  const cv::Vec3b got = r.image.at<cv::Vec3b>(cheek), a = faces[0].image.at<cv::Vec3b>(cheek);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(got[c], a[c], 3) << "cheek from the first input";
  const cv::Vec3b corner = r.image.at<cv::Vec3b>(2, 2), b = faces[1].image.at<cv::Vec3b>(2, 2);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(corner[c], b[c], 1) << "backdrop from the second";
}

// A default synthetic face and one with its eyes further apart.
std::vector<MorphFace> default_and_wide_eyed() {
  FaceParams wide;
  wide.eye_spacing = 0.30;
  return {synthetic_face(kSide), synthetic_face(kSide, wide)};
}

TEST(Regions, ShapeWeightsMoveTheGeometryOnly) {
  const std::vector<MorphFace> faces = default_and_wide_eyed();
  const Morpher morpher(faces);
  MorphMix mix = MorphMix::uniform({0.5, 0.5});
  mix.shape = {1.0, 0.0};
  const MorphResult r = morpher.render(mix);
  for (int k = 0; k < 68; ++k) EXPECT_NEAR(cv::norm(r.landmarks[k] - faces[0].landmarks[k]), 0.0, 1e-4);
}

TEST(Regions, RegionShapeWeightsMoveOnlyThatRegionsLandmarks) {
  const std::vector<MorphFace> faces = default_and_wide_eyed();
  const Morpher morpher(faces);
  MorphMix mix = MorphMix::uniform({0.5, 0.5});
  mix.shape_regions[kRegionEyes] = {0.0, 1.0};  // the eyes' and brows' geometry of the second face
  EXPECT_FALSE(mix.is_uniform());
  const MorphResult r = morpher.render(mix);
  const MorphResult half = morpher.render(std::vector<double>{0.5, 0.5});
  int eyes = 0;
  for (int k = 0; k < 68; ++k) {
    if (landmark_shape_region(k) == kRegionEyes) {
      ++eyes;
      EXPECT_NEAR(cv::norm(r.landmarks[k] - faces[1].landmarks[k]), 0.0, 1e-4) << k;
    } else {
      EXPECT_NEAR(cv::norm(r.landmarks[k] - half.landmarks[k]), 0.0, 1e-4) << k;
    }
  }
  EXPECT_EQ(eyes, 22);  // brows 17-26 and eyes 36-47
  EXPECT_GT(cv::norm(r.image, half.image, cv::NORM_L1), 0.0);  // the pixels followed the geometry
}

TEST(Regions, OneGeometryServesEveryAppearanceMixOnIt) {
  FaceParams other;
  other.eye_spacing = 0.30;
  other.skin = cv::Scalar(60, 90, 140);
  const std::vector<MorphFace> faces = {synthetic_face(kSide), synthetic_face(kSide, other)};
  const Morpher morpher(faces);
  MorphMix first = MorphMix::uniform({0.5, 0.5});
  first.shape_regions[kRegionMouth] = {0.8, 0.2};
  first.regions[kRegionNose] = {0.3, 0.7};
  MorphMix second = first;  // same geometry, other appearance
  second.regions[kRegionEyes] = {0.9, 0.1};
  second.backdrop = {0.2, 0.8};
  const MorphGeometry g = morpher.geometry(first);
  const MorphResult shared = morpher.render(g, second), direct = morpher.render(second);
  EXPECT_EQ(cv::norm(shared.image, direct.image, cv::NORM_INF), 0.0);
  EXPECT_GT(cv::norm(shared.image, morpher.render(first).image, cv::NORM_INF), 0.0);
  MorphMix without_second = first;  // a geometry that leaves the second face out
  without_second.backdrop = {1.0, 0.0};
  for (auto& r : without_second.regions) r = {1.0, 0.0};
  EXPECT_THROW(morpher.render(morpher.geometry(without_second), second), std::invalid_argument);
}

}  // namespace
}  // namespace facemix::test
