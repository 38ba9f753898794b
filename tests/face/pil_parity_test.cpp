// Parity with the Python reference: Pillow's own resize and QUAD transform,
// and the FFHQ procedure in numpy (tests/face/ffhq_reference.py), run through
// Debian's /usr/bin/python3 with python3-pil and python3-numpy. Skipped (with a
// message) only where those packages are missing.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "corner_face.h"
#include "facemix/align.h"
#include "facemix/face.h"
#include "facemix/image_io.h"
#include "test_support.h"

namespace facemix {
namespace {

using test::ScratchDir;

bool reference_available() {
  static const bool ok =
      std::system("/usr/bin/python3 -c 'import PIL.Image, numpy' >/dev/null 2>&1") == 0;
  return ok;
}

std::string script() { return test::source_dir() + "/tests/face/ffhq_reference.py"; }

void run_reference(const std::string& args) {
  const std::string cmd = "/usr/bin/python3 " + script() + " " + args;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// A test image with smooth gradients, sharp edges and noise, fixed seed.
cv::Mat pattern(cv::Size size, int seed) {
  cv::Mat img(size, CV_8UC3);
  cv::RNG rng(static_cast<uint64_t>(seed));
  rng.fill(img, cv::RNG::UNIFORM, 0, 256);
  cv::Mat smooth(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y)
    for (int x = 0; x < size.width; ++x)
      smooth.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(x * 255 / size.width),
                                             static_cast<uchar>(y * 255 / size.height),
                                             static_cast<uchar>((x + y) % 256 < 128 ? 30 : 220));
  cv::addWeighted(img, 0.3, smooth, 0.7, 0, img);
  return img;
}

int count_diff(const cv::Mat& a, const cv::Mat& b, int* max_abs) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  double mx = 0;
  cv::minMaxLoc(d.reshape(1), nullptr, &mx);
  *max_abs = static_cast<int>(mx);
  return cv::countNonZero(d.reshape(1));
}

class PilParity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!reference_available()) GTEST_SKIP() << "/usr/bin/python3 with PIL and numpy not installed";
  }
  ScratchDir dir;
};

TEST_F(PilParity, LanczosResizeIsBitIdentical) {
  const struct {
    cv::Size in, out;
  } cases[] = {{{300, 200}, {97, 61}},   // downscale both ways
               {{50, 40}, {123, 77}},    // upscale
               {{301, 199}, {301, 100}}, // vertical pass only
               {{64, 64}, {17, 64}},     // horizontal pass only
               {{1000, 30}, {250, 29}}}; // strong horizontal reduction
  int seed = 1;
  for (const auto& c : cases) {
    const cv::Mat img = pattern(c.in, seed++);
    write_image(dir.file("in.png"), img);
    run_reference("resize " + dir.file("in.png") + " " + dir.file("ref.png") + " " +
                  std::to_string(c.out.width) + " " + std::to_string(c.out.height));
    const cv::Mat ref = read_image(dir.file("ref.png"));
    const cv::Mat ours = resize_antialias(img, c.out);
    int max_abs = 0;
    EXPECT_EQ(count_diff(ours, ref, &max_abs), 0) << c.in << " -> " << c.out << " max " << max_abs;
  }
}

TEST_F(PilParity, QuadTransformIsBitIdentical) {
  const cv::Mat img = pattern({200, 150}, 7);
  write_image(dir.file("in.png"), img);
  // A rotated square reaching past the image on two sides, and a general quad.
  const std::array<cv::Point2d, 4> quads[] = {
      {cv::Point2d(-20.25, 30.5), cv::Point2d(10.75, 190.125), cv::Point2d(170.5, 160.0),
       cv::Point2d(140.0, 0.375)},
      {cv::Point2d(12.3, 8.9), cv::Point2d(20.1, 140.7), cv::Point2d(181.6, 130.2),
       cv::Point2d(170.4, 15.5)}};
  for (const auto& q : quads) {
    std::ostringstream args;
    args.precision(17);
    args << "quad " << dir.file("in.png") << " " << dir.file("ref.png") << " 173";
    for (const auto& p : q) args << " " << p.x << " " << p.y;
    run_reference(args.str());
    const cv::Mat ref = read_image(dir.file("ref.png"));
    const cv::Mat ours = transform_quad_bilinear(img, 173, q);
    int max_abs = 0;
    EXPECT_EQ(count_diff(ours, ref, &max_abs), 0) << "max " << max_abs;
  }
}

// Whole FFHQ alignment against the reference. Without padding every step is
// integer or Pillow arithmetic, so the bytes must match exactly; with padding
// the float32 blur is summed in a different order than scipy's, which may move
// a rounding by one level in a few pixels.
void expect_matches_reference(const ScratchDir& dir, const cv::Mat& image, const Landmarks& lm,
                              int size, const std::string& what) {
  write_image(dir.file("in.png"), image);
  {
    std::ofstream f(dir.file("lm.json"));
    f.precision(17);
    f << "{\"landmarks\": [";
    for (std::size_t i = 0; i < lm.size(); ++i) f << (i ? ", " : "") << "[" << lm[i].x << ", " << lm[i].y << "]";
    f << "]}";
  }
  run_reference("align " + dir.file("in.png") + " " + dir.file("lm.json") + " " + dir.file("ref.png") +
                " " + std::to_string(size));
  const cv::Mat ref = read_image(dir.file("ref.png"));
  AlignOptions o;
  o.output_size = size;
  const AlignedFace a = align_face(image, lm, o);
  int max_abs = 0;
  const int differing = count_diff(a.image, ref, &max_abs);
  std::printf("%s: %d of %d values differ, max %d\n", what.c_str(), differing, size * size * 3, max_abs);
  if (!a.alignment.padded) {
    EXPECT_EQ(differing, 0) << what << ": max abs diff " << max_abs;
  } else {
    EXPECT_LE(max_abs, 1) << what;
    EXPECT_LE(differing, size * size * 3 / 1000) << what << " (padded): values differ by one level";
  }
}

TEST_F(PilParity, FfhqAlignmentMatchesReferenceOnPhotos) {
  const FaceDetector detector;
  const struct {
    const char* file;
    int size;
    bool expect_padded, expect_shrunk;
  } cases[] = {{"congress_C001080.jpg", 256, false, false},
               {"whitehouse_two_faces.jpg", 128, true, false},
               {"congress_E000295_large_3884x4920.jpg", 128, false, true}};
  for (const auto& c : cases) {
    const cv::Mat img = read_image(test::faces_dir() + "/" + c.file);
    const auto faces = detector.detect(img);
    ASSERT_FALSE(faces.empty()) << c.file;
    AlignOptions o;
    o.output_size = c.size;
    const AlignmentPlan plan = plan_ffhq_alignment(faces[0].landmarks, img.size(), o);
    EXPECT_EQ(plan.padded, c.expect_padded) << c.file;
    EXPECT_EQ(plan.shrink > 1, c.expect_shrunk) << c.file;
    expect_matches_reference(dir, img, faces[0].landmarks, c.size, c.file);
  }
}

TEST_F(PilParity, FfhqAlignmentMatchesReferenceWithHeavyPadding) {
  // A synthetic face hanging off the top-left corner: the padding is wider than
  // the cropped image, so the reflection wraps more than once.
  const cv::Mat img = pattern({160, 120}, 11);
  const Landmarks lm = facemix::test::corner_face_landmarks();
  const AlignmentPlan plan = plan_ffhq_alignment(lm, img.size(), {64});
  ASSERT_TRUE(plan.padded);
  EXPECT_GT(plan.pad[0], plan.crop.width);
  EXPECT_GT(plan.pad[1], plan.crop.height);
  expect_matches_reference(dir, img, lm, 64, "corner face");
}

}  // namespace
}  // namespace facemix
