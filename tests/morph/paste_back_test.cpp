// Unit tests of paste-back with synthetic photos and alignment plans.
#include <gtest/gtest.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "facemix/paste_back.h"
#include "synthetic_face.h"

using namespace facemix;
using facemix::test::synthetic_face;

namespace {

constexpr int kSide = 256;

// A plan whose crop is the photo region rotated by `degrees`, `scale` photo
// pixels per crop pixel, crop origin at `origin` (only the affine maps matter
// to paste_back).
AlignmentPlan similarity_plan(double scale, double degrees, cv::Point2d origin) {
  AlignmentPlan plan;
  plan.output_size = kSide;
  const double a = degrees * M_PI / 180, c = scale * std::cos(a), s = scale * std::sin(a);
  plan.aligned_to_original = cv::Matx23d(c, -s, origin.x, s, c, origin.y);
  cv::Mat inverse;
  cv::invertAffineTransform(cv::Mat(plan.aligned_to_original), inverse);
  plan.original_to_aligned = cv::Matx23d(inverse);
  return plan;
}

cv::Point2d apply(const cv::Matx23d& m, cv::Point2d p) {
  return {m(0, 0) * p.x + m(0, 1) * p.y + m(0, 2), m(1, 0) * p.x + m(1, 1) * p.y + m(1, 2)};
}

cv::Mat textured_photo(cv::Size size) {
  cv::Mat photo(size, CV_8UC3);
  cv::RNG rng(7);
  rng.fill(photo, cv::RNG::UNIFORM, cv::Scalar(60, 90, 100), cv::Scalar(120, 150, 160));
  return photo;
}

cv::Rect mapped_hull_box(const Landmarks& lm, const AlignmentPlan& plan) {
  std::vector<cv::Point2f> pts;
  for (const auto& p : lm) pts.emplace_back(apply(plan.aligned_to_original, p));
  return cv::boundingRect(pts);
}

}  // namespace

TEST(FaceMask, ZeroOutsideOneInsideSmoothBetween) {
  const auto face = synthetic_face(kSide);
  const cv::Mat m = face_mask(face.landmarks, {kSide, kSide}, 0.08);
  ASSERT_EQ(m.type(), CV_32F);
  EXPECT_EQ(m.at<float>(5, 5), 0.f);                               // corner
  EXPECT_EQ(m.at<float>(static_cast<int>(0.2 * kSide), kSide / 2), 0.f);  // forehead: above the brows
  EXPECT_EQ(m.at<float>(static_cast<int>(0.55 * kSide), kSide / 2), 1.f);  // nose
  int partial = 0;
  for (int x = 0; x < kSide; ++x) {
    const float v = m.at<float>(static_cast<int>(0.55 * kSide), x);
    EXPECT_GE(v, 0.f);
    EXPECT_LE(v, 1.f);
    partial += v > 0.f && v < 1.f;
  }
  EXPECT_GE(partial, 10);  // a feathered ramp on each side, not a hard edge
}

TEST(PasteBack, ChangesOnlyTheFaceRegionAtThePhotosSize) {
  const auto face = synthetic_face(kSide);
  const cv::Mat photo = textured_photo({420, 360});
  const AlignmentPlan plan = similarity_plan(0.9, 12, {130, 20});
  const cv::Mat out = paste_back(photo, plan, face.image, face.landmarks);
  ASSERT_EQ(out.size(), photo.size());
  ASSERT_EQ(out.type(), CV_8UC3);
  const cv::Rect box = mapped_hull_box(face.landmarks, plan);
  cv::Mat diff;
  cv::absdiff(out, photo, diff);
  cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
  int changed = 0, outside = 0;
  const cv::Rect allowed(box.x - 2, box.y - 2, box.width + 4, box.height + 4);
  for (int y = 0; y < diff.rows; ++y)
    for (int x = 0; x < diff.cols; ++x)
      if (diff.at<uchar>(y, x)) {
        ++changed;
        outside += !allowed.contains({x, y});
      }
  EXPECT_EQ(outside, 0);
  EXPECT_GT(changed, box.area() / 3);
}

TEST(PasteBack, InsideTheFaceShowsTheFaceThroughTheInverseAlignment) {
  const auto face = synthetic_face(kSide);
  const cv::Mat photo = textured_photo({420, 360});
  const AlignmentPlan plan = similarity_plan(1.2, -8, {60, 30});
  PasteOptions no_colour;
  no_colour.match_colour = false;
  const cv::Mat out = paste_back(photo, plan, face.image, face.landmarks, no_colour);
  // The nose-tip marker lands where the plan maps landmark 30.
  const cv::Point2d expected = apply(plan.aligned_to_original, face.landmarks[30]);
  const cv::Point2d found = facemix::test::green_centroid(out);
  EXPECT_LT(cv::norm(found - expected), 1.0) << found << " vs " << expected;
  // A cheek pixel is the face's skin colour.
  const cv::Point2d cheek = apply(plan.aligned_to_original, {0.35 * kSide, 0.55 * kSide});
  const cv::Vec3b px = out.at<cv::Vec3b>(cvRound(cheek.y), cvRound(cheek.x));
  EXPECT_NEAR(px[0], 120, 2);
  EXPECT_NEAR(px[1], 160, 2);
  EXPECT_NEAR(px[2], 210, 2);
}

TEST(PasteBack, ColourMatchingMovesTheFaceTowardsThePhoto) {
  const auto face = synthetic_face(kSide);
  const cv::Mat photo = textured_photo({420, 360});  // mean about (90,120,130)
  const AlignmentPlan plan = similarity_plan(1.0, 0, {80, 50});
  const cv::Mat matched = paste_back(photo, plan, face.image, face.landmarks);
  const cv::Point2d cheek = apply(plan.aligned_to_original, {0.35 * kSide, 0.55 * kSide});
  const cv::Rect patch(cvRound(cheek.x) - 5, cvRound(cheek.y) - 5, 11, 11);
  const cv::Scalar mean = cv::mean(matched(patch));
  // Unmatched skin is (120,160,210); matched skin moves towards the photo's mean.
  EXPECT_LT(std::abs(mean[2] - 130), std::abs(210 - 130) / 2.0) << mean;
}

TEST(PasteBack, DownsamplesLargeCropsIntoSmallFaces) {
  const auto face = synthetic_face(kSide);
  const cv::Mat photo = textured_photo({200, 160});
  const AlignmentPlan plan = similarity_plan(0.25, 5, {70, 40});
  PasteOptions no_colour;
  no_colour.match_colour = false;
  const cv::Mat out = paste_back(photo, plan, face.image, face.landmarks, no_colour);
  ASSERT_EQ(out.size(), photo.size());
  const cv::Point2d expected = apply(plan.aligned_to_original, face.landmarks[30]);
  const cv::Vec3b px = out.at<cv::Vec3b>(cvRound(expected.y), cvRound(expected.x));
  EXPECT_GT(px[1], 150);  // the (small) green marker survives the downsampling
}

TEST(PasteBack, IsDeterministic) {
  const auto face = synthetic_face(kSide);
  const cv::Mat photo = textured_photo({420, 360});
  const AlignmentPlan plan = similarity_plan(0.9, 12, {130, 20});
  const cv::Mat a = paste_back(photo, plan, face.image, face.landmarks);
  const cv::Mat b = paste_back(photo, plan, face.image, face.landmarks);
  cv::Mat d;
  cv::absdiff(a, b, d);
  EXPECT_EQ(cv::countNonZero(d.reshape(1)), 0);
}

TEST(PasteBack, RejectsAFaceOfAnotherSize) {
  const auto face = synthetic_face(kSide / 2);
  const cv::Mat photo = textured_photo({100, 100});
  EXPECT_THROW(paste_back(photo, similarity_plan(1, 0, {0, 0}), face.image, face.landmarks),
               std::invalid_argument);
}

// A change made in the crop (here: +20 on every channel inside the face mask)
// lands on the photo's own pixels; outside the hull and at gain 0 nothing moves.
TEST(PasteBackChange, AddsTheChangeOnlyInsideTheFace) {
  const auto face = synthetic_face(kSide);
  const cv::Mat photo = textured_photo({420, 360});
  const AlignmentPlan plan = similarity_plan(1.1, 7, {90, 40});
  const cv::Mat mask = face_mask(face.landmarks, {kSide, kSide}, 0.08);
  cv::Mat change(kSide, kSide, CV_32FC3, cv::Scalar::all(0));
  change.setTo(cv::Scalar::all(20.0 / 255), mask >= 1.f);
  EXPECT_EQ(cv::norm(paste_back_change(photo, plan, change, face.landmarks, 0.0), photo, cv::NORM_INF), 0.0);
  const cv::Mat out = paste_back_change(photo, plan, change, face.landmarks);
  ASSERT_EQ(out.size(), photo.size());
  const cv::Rect box = mapped_hull_box(face.landmarks, plan);
  cv::Mat outside(photo.size(), CV_8U, cv::Scalar(255));
  outside(box & cv::Rect(0, 0, photo.cols, photo.rows)).setTo(0);
  EXPECT_EQ(cv::norm(out, photo, cv::NORM_INF, outside), 0.0);
  // The nose (inside the mask at full weight) is the photo's pixel plus 20.
  const cv::Point2d nose = apply(plan.aligned_to_original, face.landmarks[30]);
  const cv::Point p(cvRound(nose.x), cvRound(nose.y));
  for (int c = 0; c < 3; ++c) EXPECT_EQ(out.at<cv::Vec3b>(p)[c], photo.at<cv::Vec3b>(p)[c] + 20);
}
