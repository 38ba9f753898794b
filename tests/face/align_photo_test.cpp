// FFHQ alignment on real photos: where the face lands in the aligned image,
// mirror symmetry, and the aligned <-> original pixel mapping.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "facemix/align.h"
#include "facemix/face.h"
#include "facemix/image_io.h"
#include "test_support.h"

namespace facemix {
namespace {

cv::Point2d mean_point(const Landmarks& lm, int first, int last) {
  cv::Point2d s(0, 0);
  for (int i = first; i < last; ++i) s += lm[static_cast<std::size_t>(i)];
  return s / static_cast<double>(last - first);
}
cv::Point2d eye_mid(const Landmarks& lm) { return (mean_point(lm, 36, 42) + mean_point(lm, 42, 48)) * 0.5; }
cv::Point2d mouth_mid(const Landmarks& lm) { return (lm[48] + lm[54]) * 0.5; }

// Loaded once per test program (it takes a second or two).
const FaceDetector& detector() {
  static const FaceDetector d;
  return d;
}

class AlignPhotos : public ::testing::Test {
 protected:
  static cv::Mat load(const std::string& name) { return read_image(test::faces_dir() + "/" + name); }
  static Face main_face(const cv::Mat& img) {
    const auto faces = detector().detect(img);
    EXPECT_FALSE(faces.empty());
    return faces.empty() ? Face{} : faces[0];
  }
};

// Landmarks found again on the aligned image sit where the plan maps the
// original ones. Tolerance: 2% of the output size (5 px at 256; measured
// offsets are 0.1-1.3 px at 256 and ~3 px at 1024).
void check_redetected(const AlignedFace& a, const Face& original, const std::string& what) {
  const auto again = detector().detect(a.image);
  ASSERT_EQ(again.size(), 1u) << what;
  const double S = a.alignment.output_size, tol = 0.02 * S;
  const cv::Point2d want_eyes = a.alignment.to_aligned(eye_mid(original.landmarks));
  const cv::Point2d want_mouth = a.alignment.to_aligned(mouth_mid(original.landmarks));
  EXPECT_LT(cv::norm(eye_mid(again[0].landmarks) - want_eyes), tol) << what;
  EXPECT_LT(cv::norm(mouth_mid(again[0].landmarks) - want_mouth), tol) << what;
  // FFHQ geometry: the eye midpoint 10% of eye-to-mouth above the centre, on
  // the vertical centre line; eye line level within 3 degrees.
  const cv::Point2d centre((S - 1) / 2, (S - 1) / 2);
  EXPECT_NEAR(want_eyes.x, centre.x, 0.02 * S) << what;
  EXPECT_LT(want_eyes.y, centre.y) << what;
  const cv::Point2d eyes = mean_point(again[0].landmarks, 42, 48) - mean_point(again[0].landmarks, 36, 42);
  EXPECT_LT(std::abs(std::atan2(eyes.y, eyes.x)) * 180 / M_PI, 3.0) << what;
}

TEST_F(AlignPhotos, RedetectedLandmarksLandWhereThePlanPutsThem) {
  for (const std::string name : {"congress_C001080.jpg", "congress_K000389_flag.jpg",
                                 "congress_N000189_beard_glasses.jpg", "nasa_astronaut_portrait.png"}) {
    const cv::Mat img = load(name);
    const Face f = main_face(img);
    const AlignedFace a = align_face(img, f.landmarks, {256});
    ASSERT_EQ(a.image.size(), cv::Size(256, 256));
    check_redetected(a, f, name);
  }
}

TEST_F(AlignPhotos, FullSizeAlignmentAt1024) {
  const cv::Mat img = load("congress_S001223_glasses.jpg");
  const Face f = main_face(img);
  const AlignedFace a = align_face(img, f.landmarks, {});
  ASSERT_EQ(a.image.size(), cv::Size(1024, 1024));
  EXPECT_EQ(a.alignment.transform_size, 4096);
  check_redetected(a, f, "1024");
}

TEST_F(AlignPhotos, MirroredPhotoGivesTheMirroredAlignment) {
  // dlib's landmarks are not exactly mirror-symmetric, so the two alignments
  // differ slightly. Tolerance: mean absolute difference under 6 grey levels
  // (measured ~4.8), and well below what a 3-pixel shift of the aligned image
  // itself gives.
  const cv::Mat img = load("congress_C001080.jpg");
  cv::Mat mirrored;
  cv::flip(img, mirrored, 1);
  const cv::Mat a = align_face(img, main_face(img).landmarks, {256}).image;
  cv::Mat b = align_face(mirrored, main_face(mirrored).landmarks, {256}).image;
  cv::flip(b, b, 1);
  const double mad = cv::norm(a, b, cv::NORM_L1) / (256.0 * 256 * 3);
  const cv::Mat shifted = a(cv::Rect(3, 0, 253, 256));
  const double mad_shift = cv::norm(shifted, a(cv::Rect(0, 0, 253, 256)), cv::NORM_L1) / (253.0 * 256 * 3);
  EXPECT_LT(mad, 6.0);
  EXPECT_LT(mad, 0.7 * mad_shift);
}

// Bilinear sample of an 8-bit BGR image at a point (pixel centres at integers).
cv::Vec3d sample(const cv::Mat& img, cv::Point2d p) {
  cv::Mat patch;
  cv::getRectSubPix(img, {1, 1}, cv::Point2f(static_cast<float>(p.x), static_cast<float>(p.y)), patch, CV_32F);
  const cv::Vec3f v = patch.at<cv::Vec3f>(0, 0);
  return {v[0], v[1], v[2]};
}

double mapping_error(const cv::Mat& aligned, const cv::Mat& original, const AlignmentPlan& p,
                     cv::Point2d aligned_offset) {
  double err = 0;
  int n = 0;
  const int S = aligned.cols;
  for (int v = S / 4; v < 3 * S / 4; v += 4)
    for (int u = S / 4; u < 3 * S / 4; u += 4) {
      const cv::Vec3b a = aligned.at<cv::Vec3b>(v, u);
      const cv::Vec3d o = sample(original, p.to_original(cv::Point2d(u, v) + aligned_offset));
      for (int c = 0; c < 3; ++c) err += std::abs(a[c] - o[c]);
      n += 3;
    }
  return err / n;
}

TEST_F(AlignPhotos, AlignedPixelsMatchTheOriginalThroughTheMapping) {
  // Aligned at the original's scale (the face's quad is ~520 px, so 512 keeps
  // it almost 1:1); the central half of the aligned image is inside the photo.
  const cv::Mat img = load("congress_C001080.jpg");
  const Face f = main_face(img);
  const AlignedFace a = align_face(img, f.landmarks, {512});
  const AlignmentPlan& p = a.alignment;
  const double err = mapping_error(a.image, img, p, {0, 0});
  const double err_off = mapping_error(a.image, img, p, {1.5, 0});
  EXPECT_LT(err, 3.0) << "mean abs difference, grey levels";
  EXPECT_LT(err, 0.6 * err_off) << "a 1.5 px shift must fit clearly worse";
  // The maps invert each other.
  for (const cv::Point2d q : {cv::Point2d(0, 0), cv::Point2d(511, 511), cv::Point2d(100.25, 300.75)})
    EXPECT_LT(cv::norm(p.to_aligned(p.to_original(q)) - q), 1e-9);
}

TEST_F(AlignPhotos, ShrunkLargePhotoStillMapsExactly) {
  const cv::Mat img = load("congress_E000295_large_3884x4920.jpg");
  const Face f = main_face(img);
  const AlignedFace a = align_face(img, f.landmarks, {256});
  ASSERT_GT(a.alignment.shrink, 1);
  check_redetected(a, f, "large, shrunk");
}

TEST_F(AlignPhotos, PaddedAlignmentOfAFaceNearTheEdge) {
  const cv::Mat img = load("whitehouse_two_faces.jpg");
  const Face f = main_face(img);
  const AlignedFace a = align_face(img, f.landmarks, {256});
  EXPECT_TRUE(a.alignment.padded);
  check_redetected(a, f, "padded");
}

}  // namespace
}  // namespace facemix
