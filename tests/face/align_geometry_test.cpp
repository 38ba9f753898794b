// FFHQ alignment plan on synthetic landmarks, against values worked out by
// hand from the procedure's definition (comments show the arithmetic).
#include <gtest/gtest.h>

#include <opencv2/core.hpp>

#include "facemix/align.h"
#include "facemix/errors.h"

namespace facemix {
namespace {

// Left eye points all at (100,100), right eye at (140,100), mouth corners
// (105,150) and (135,150):
//   eye_avg = (120,100), eye_to_eye = (40,0), mouth_avg = (120,150),
//   eye_to_mouth = (0,50); x = (40,0) - (-50,0) = (90,0) -> unit (1,0)
//   scaled by max(40*2, 50*1.8) = 90 -> x = (90,0), y = (0,90);
//   c = (120,100) + (0,5) = (120,105); quad = (30,15) (30,195) (210,195) (210,15);
//   qsize = 180.
Landmarks frontal(double dx = 0, double dy = 0) {
  Landmarks lm{};
  for (auto& p : lm) p = cv::Point2d(120 + dx, 130 + dy);  // points the plan does not use
  for (int i = 36; i < 42; ++i) lm[static_cast<std::size_t>(i)] = cv::Point2d(100 + dx, 100 + dy);
  for (int i = 42; i < 48; ++i) lm[static_cast<std::size_t>(i)] = cv::Point2d(140 + dx, 100 + dy);
  lm[48] = cv::Point2d(105 + dx, 150 + dy);
  lm[54] = cv::Point2d(135 + dx, 150 + dy);
  return lm;
}

void expect_point(cv::Point2d got, cv::Point2d want, double tol = 1e-9) {
  EXPECT_NEAR(got.x, want.x, tol);
  EXPECT_NEAR(got.y, want.y, tol);
}

TEST(AlignPlan, QuadFollowsTheFfhqFormula) {
  const AlignmentPlan p = plan_ffhq_alignment(frontal(), {400, 300}, {64});
  expect_point(p.quad[0], {30, 15});
  expect_point(p.quad[1], {30, 195});
  expect_point(p.quad[2], {210, 195});
  expect_point(p.quad[3], {210, 15});
  EXPECT_DOUBLE_EQ(p.qsize, 180);
  EXPECT_EQ(p.transform_size, 256);  // 0 means 4 x output_size
}

TEST(AlignPlan, CropWithoutShrinkOrPadding) {
  // shrink = floor(180 / 64 * 0.5) = 1: none. border = max(rint(18), 3) = 18.
  // crop = (30-18, max(15-18,0), 210+18, 195+18) = (12,0)-(228,213): smaller than
  // 400x300, so cropped; quad -= (12,0). pad = (0, 3, 0, 0): max 3 <= 18-4, none.
  const AlignmentPlan p = plan_ffhq_alignment(frontal(), {400, 300}, {64});
  EXPECT_EQ(p.shrink, 1);
  EXPECT_EQ(p.shrunk_size, cv::Size(400, 300));
  EXPECT_EQ(p.border, 18);
  EXPECT_EQ(p.crop, cv::Rect(12, 0, 216, 213));
  EXPECT_FALSE(p.padded);
  EXPECT_EQ(p.pad, cv::Vec4i(0, 0, 0, 0));
  EXPECT_EQ(p.work_size, cv::Size(216, 213));
  expect_point(p.work_quad[0], {18, 15});
  expect_point(p.work_quad[2], {198, 195});
}

TEST(AlignPlan, ShrinkHalvesTheImageAndTheQuad) {
  // shrink = floor(180 / 32 * 0.5) = floor(2.81) = 2: 400x300 -> 200x150;
  // quad /= 2 -> (15,7.5)...(105,97.5); qsize 90; border = max(rint(9),3) = 9;
  // crop = (15-9, max(7-9,0), 105+9, 98+9) = (6,0)-(114,107); pad = (0,2,0,0), none.
  const AlignmentPlan p = plan_ffhq_alignment(frontal(), {400, 300}, {32});
  EXPECT_EQ(p.shrink, 2);
  EXPECT_EQ(p.shrunk_size, cv::Size(200, 150));
  EXPECT_DOUBLE_EQ(p.work_qsize, 90);
  EXPECT_EQ(p.border, 9);
  EXPECT_EQ(p.crop, cv::Rect(6, 0, 108, 107));
  EXPECT_FALSE(p.padded);
  expect_point(p.work_quad[0], {9, 7.5});
  EXPECT_EQ(p.shrink_scale, cv::Vec2d(2, 2));
}

TEST(AlignPlan, ShrunkSizeRoundsHalfToEven) {
  // numpy's rint: 401/2 = 200.5 -> 200, 303/2 = 151.5 -> 152.
  const AlignmentPlan p = plan_ffhq_alignment(frontal(), {401, 303}, {32});
  EXPECT_EQ(p.shrunk_size, cv::Size(200, 152));
  EXPECT_DOUBLE_EQ(p.shrink_scale[0], 401.0 / 200);
  EXPECT_DOUBLE_EQ(p.shrink_scale[1], 303.0 / 152);
}

TEST(AlignPlan, PaddingWhenTheQuadLeavesTheImage) {
  // Image 200x150: crop = (12, 0, min(228,200), min(213,150)) = (12,0)-(200,150);
  // quad -= (12,0) -> bounds (18,15,198,195) in a 188x150 crop;
  // pad = (0, 3, 198-188+18, 195-150+18) = (0,3,28,63): 63 > 14, so padding with
  // at least rint(180*0.3) = 54 per side -> (54,54,54,63); quad += (54,54).
  const AlignmentPlan p = plan_ffhq_alignment(frontal(), {200, 150}, {64});
  EXPECT_EQ(p.crop, cv::Rect(12, 0, 188, 150));
  EXPECT_TRUE(p.padded);
  EXPECT_EQ(p.pad, cv::Vec4i(54, 54, 54, 63));
  EXPECT_EQ(p.work_size, cv::Size(188 + 108, 150 + 117));
  EXPECT_DOUBLE_EQ(p.blur_sigma, 3.6);
  expect_point(p.work_quad[0], {72, 69});
  expect_point(p.work_quad[2], {252, 249});

  AlignOptions no_pad;
  no_pad.output_size = 64;
  no_pad.enable_padding = false;
  EXPECT_FALSE(plan_ffhq_alignment(frontal(), {200, 150}, no_pad).padded);
}

TEST(AlignPlan, MapsTheQuadOntoTheOutputSquare) {
  // Without shrink, the quad's corners are the aligned image's outer pixel
  // edges (-0.5 and S-0.5 with pixel centres at integers) and c its centre.
  const int S = 64;
  const AlignmentPlan p = plan_ffhq_alignment(frontal(), {200, 150}, {S});
  expect_point(p.to_aligned({30, 15}), {-0.5, -0.5});
  expect_point(p.to_aligned({30, 195}), {-0.5, S - 0.5});
  expect_point(p.to_aligned({210, 195}), {S - 0.5, S - 0.5});
  expect_point(p.to_aligned({210, 15}), {S - 0.5, -0.5});
  expect_point(p.to_aligned({120, 105}), {S / 2.0 - 0.5, S / 2.0 - 0.5});
  // Eyes at 10% of eye-to-mouth above the centre: 5 px = 5 * 64/180 aligned px.
  expect_point(p.to_aligned({120, 100}), {31.5, 31.5 - 5 * 64.0 / 180});
}

TEST(AlignPlan, ShrinkMappingUsesTheActualResizeScale) {
  // After a 2x shrink, shrunk pixel centre s sits at original 2 (s + 0.5) - 0.5:
  // aligned (0,0) -> work (9,7.5) + half a step (90/32/2) -> shrunk + crop (6,0)
  // = (16.40625, 8.90625) -> original (33.3125, 18.3125).
  const AlignmentPlan p = plan_ffhq_alignment(frontal(), {400, 300}, {32});
  expect_point(p.to_original({0, 0}), {33.3125, 18.3125});
}

TEST(AlignPlan, ForwardAndInverseMapsAgree) {
  for (const cv::Size size : {cv::Size(400, 300), cv::Size(200, 150), cv::Size(401, 303)}) {
    for (const int S : {32, 64, 1024}) {
      const AlignmentPlan p = plan_ffhq_alignment(frontal(3.3, -1.7), size, {S});
      for (const cv::Point2d q : {cv::Point2d(0, 0), cv::Point2d(17.25, 3.5), cv::Point2d(-40, 900)})
        expect_point(p.to_original(p.to_aligned(q)), q, 1e-9);
    }
  }
}

TEST(AlignPlan, RotatedFaceGivesRotatedQuad) {
  // The same face rotated by 90 degrees (x, y) -> (-y, x) about the origin,
  // shifted into view: the quad rotates with it.
  Landmarks lm = frontal();
  for (auto& p : lm) p = cv::Point2d(500 - p.y, p.x);
  const AlignmentPlan p = plan_ffhq_alignment(lm, {600, 600}, {64});
  expect_point(p.quad[0], {500 - 15, 30});
  expect_point(p.quad[2], {500 - 195, 210});
  EXPECT_DOUBLE_EQ(p.qsize, 180);
}

TEST(AlignPlan, OptionsOutOfRangeAreUsageErrors) {
  EXPECT_THROW(plan_ffhq_alignment(frontal(), {400, 300}, {8}), UsageError);
  EXPECT_THROW(plan_ffhq_alignment(frontal(), {400, 300}, {5000}), UsageError);
  AlignOptions o;
  o.output_size = 64;
  o.transform_size = 32;
  EXPECT_THROW(plan_ffhq_alignment(frontal(), {400, 300}, o), UsageError);
  EXPECT_THROW(plan_ffhq_alignment(frontal(), {0, 300}, {64}), UsageError);
  EXPECT_THROW(plan_ffhq_alignment(frontal(2000, 2000), {400, 300}, {64}), Error);
}

}  // namespace
}  // namespace facemix
