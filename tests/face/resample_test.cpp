// Properties of the Pillow-equivalent resampler and quad transform that hold
// without the Python reference (see pil_parity_test for bit parity).
#include <gtest/gtest.h>

#include <array>

#include <opencv2/core.hpp>

#include "corner_face.h"
#include "facemix/align.h"

namespace facemix {
namespace {

cv::Mat noise(cv::Size s, int seed) {
  cv::Mat m(s, CV_8UC3);
  cv::RNG rng(static_cast<uint64_t>(seed));
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  return m;
}

TEST(ResizeAntialias, ConstantImageStaysConstant) {
  const cv::Mat flat(57, 91, CV_8UC3, cv::Scalar(17, 128, 254));
  for (const cv::Size out : {cv::Size(13, 9), cv::Size(200, 120), cv::Size(91, 20)}) {
    const cv::Mat r = resize_antialias(flat, out);
    ASSERT_EQ(r.size(), out);
    EXPECT_EQ(cv::norm(r, cv::Mat(out, CV_8UC3, cv::Scalar(17, 128, 254)), cv::NORM_INF), 0.0) << out;
  }
}

TEST(ResizeAntialias, SameSizeIsACopy) {
  const cv::Mat img = noise({31, 17}, 1);
  const cv::Mat r = resize_antialias(img, img.size());
  EXPECT_EQ(cv::norm(r, img, cv::NORM_INF), 0.0);
  EXPECT_NE(r.data, img.data);
}

TEST(ResizeAntialias, IntegerDownscaleAveragesNeighbourhoods) {
  // Halving a 2x2 checkerboard of blocks keeps block values where the Lanczos
  // window sits inside one block, and never rings outside 0..255.
  cv::Mat img(64, 64, CV_8UC3);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x)
      img.at<cv::Vec3b>(y, x) = ((x / 32) ^ (y / 32)) ? cv::Vec3b(255, 255, 255) : cv::Vec3b(0, 0, 0);
  const cv::Mat r = resize_antialias(img, {32, 32});
  EXPECT_EQ(r.at<cv::Vec3b>(8, 8), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(r.at<cv::Vec3b>(8, 24), cv::Vec3b(255, 255, 255));
  // Mean brightness is preserved (to rounding).
  EXPECT_NEAR(cv::mean(r)[0], cv::mean(img)[0], 0.5);
}

TEST(ResizeAntialias, ChannelsAreIndependent) {
  const cv::Mat img = noise({40, 30}, 2);
  std::vector<cv::Mat> planes;
  cv::split(img, planes);
  const cv::Mat r = resize_antialias(img, {17, 11});
  std::vector<cv::Mat> rplanes;
  cv::split(r, rplanes);
  for (int c = 0; c < 3; ++c)
    EXPECT_EQ(cv::norm(resize_antialias(planes[static_cast<std::size_t>(c)], {17, 11}),
                       rplanes[static_cast<std::size_t>(c)], cv::NORM_INF),
              0.0);
}

TEST(TransformQuad, IdentityQuadReproducesTheImage) {
  const cv::Mat img = noise({48, 48}, 3);
  // Corners in PIL's convention: the outer pixel edges.
  const std::array<cv::Point2d, 4> q{cv::Point2d(0, 0), cv::Point2d(0, 48), cv::Point2d(48, 48),
                                     cv::Point2d(48, 0)};
  EXPECT_EQ(cv::norm(transform_quad_bilinear(img, 48, q), img, cv::NORM_INF), 0.0);
}

TEST(TransformQuad, QuarterTurnRotatesExactly) {
  const cv::Mat img = noise({32, 32}, 4);
  // Top-left of the output at the image's top-right corner, and so on.
  const std::array<cv::Point2d, 4> q{cv::Point2d(32, 0), cv::Point2d(0, 0), cv::Point2d(0, 32),
                                     cv::Point2d(32, 32)};
  cv::Mat expected;
  cv::rotate(img, expected, cv::ROTATE_90_COUNTERCLOCKWISE);
  EXPECT_EQ(cv::norm(transform_quad_bilinear(img, 32, q), expected, cv::NORM_INF), 0.0);
}

TEST(TransformQuad, OutsideTheImageIsBlack) {
  const cv::Mat img(10, 10, CV_8UC3, cv::Scalar(200, 200, 200));
  const std::array<cv::Point2d, 4> q{cv::Point2d(-10, -10), cv::Point2d(-10, 10), cv::Point2d(10, 10),
                                     cv::Point2d(10, -10)};
  const cv::Mat out = transform_quad_bilinear(img, 20, q);
  EXPECT_EQ(out.at<cv::Vec3b>(2, 2), cv::Vec3b(0, 0, 0));
  EXPECT_EQ(out.at<cv::Vec3b>(15, 15), cv::Vec3b(200, 200, 200));
}

TEST(AlignFace, StreamedTransformEqualsTransformThenResize) {
  // align_face streams the supersampled image band by band; it must give the
  // same bytes as the two steps done separately.
  const cv::Mat img = noise({300, 260}, 5);
  Landmarks lm{};
  for (auto& p : lm) p = cv::Point2d(150, 140);
  for (int i = 36; i < 42; ++i) lm[static_cast<std::size_t>(i)] = cv::Point2d(130 + i % 3, 120 + i % 2);
  for (int i = 42; i < 48; ++i) lm[static_cast<std::size_t>(i)] = cv::Point2d(165 + i % 3, 122 + i % 2);
  lm[48] = cv::Point2d(137, 155);
  lm[54] = cv::Point2d(161, 157);
  AlignOptions o;
  o.output_size = 40;
  const AlignedFace a = align_face(img, lm, o);
  const AlignmentPlan& p = a.alignment;
  ASSERT_FALSE(p.padded);
  cv::Mat work = img(p.crop).clone();
  std::array<cv::Point2d, 4> q;
  for (std::size_t i = 0; i < 4; ++i) q[i] = p.work_quad[i] + cv::Point2d(0.5, 0.5);
  const cv::Mat two_step = resize_antialias(transform_quad_bilinear(work, 160, q), {40, 40});
  EXPECT_EQ(cv::norm(a.image, two_step, cv::NORM_INF), 0.0);
  // And aligned landmarks are the plan's mapping of the input ones.
  EXPECT_NEAR(a.landmarks[48].x, p.to_aligned(lm[48]).x, 1e-12);
}

TEST(AlignFace, ResultDoesNotDependOnThreadCount) {
  const cv::Mat img = noise({90, 90}, 6);
  Landmarks lm{};
  for (auto& p : lm) p = cv::Point2d(45, 45);
  for (int i = 36; i < 42; ++i) lm[static_cast<std::size_t>(i)] = cv::Point2d(30, 35);
  for (int i = 42; i < 48; ++i) lm[static_cast<std::size_t>(i)] = cv::Point2d(60, 36);
  lm[48] = cv::Point2d(34, 70);
  lm[54] = cv::Point2d(56, 71);
  const cv::Mat many = align_face(img, lm, {48}).image;  // default: all cores
  const int before = cv::getNumThreads();
  cv::setNumThreads(1);
  const cv::Mat one = align_face(img, lm, {48}).image;
  cv::setNumThreads(before);
  EXPECT_EQ(cv::norm(one, many, cv::NORM_INF), 0.0);
}

TEST(AlignFace, PaddingFillsWhatLiesBeyondTheImage) {
  // A face hanging off the top-left corner. With FFHQ padding the area beyond
  // the photo is filled (reflection blurred towards the median); without it
  // the transform samples outside the image and gets black.
  cv::Mat img = noise({160, 120}, 8);
  cv::max(img, cv::Scalar(1, 1, 1), img);  // no black pixels in the photo itself
  const Landmarks lm = facemix::test::corner_face_landmarks();
  auto black = [](const cv::Mat& m) {
    int n = 0;
    for (int y = 0; y < m.rows; ++y)
      for (int x = 0; x < m.cols; ++x) n += m.at<cv::Vec3b>(y, x) == cv::Vec3b(0, 0, 0) ? 1 : 0;
    return n;
  };
  const AlignedFace padded = align_face(img, lm, {64});
  ASSERT_TRUE(padded.alignment.padded);
  EXPECT_EQ(black(padded.image), 0);
  AlignOptions o;
  o.output_size = 64;
  o.enable_padding = false;
  const AlignedFace bare = align_face(img, lm, o);
  EXPECT_GT(black(bare.image), 64 * 64 / 4);
}

}  // namespace
}  // namespace facemix
