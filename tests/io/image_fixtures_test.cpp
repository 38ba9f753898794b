// read_image on the shared photos: EXIF orientation, grayscale, alpha.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "facemix/image_io.h"
#include "test_support.h"

namespace facemix {
namespace {

std::string face(const std::string& name) { return test::faces_dir() + "/" + name; }

bool channels_equal(const cv::Mat& bgr) {
  std::vector<cv::Mat> ch;
  cv::split(bgr, ch);
  return cv::norm(ch[0], ch[1], cv::NORM_INF) == 0 && cv::norm(ch[0], ch[2], cv::NORM_INF) == 0;
}

TEST(ImageFixtures, ExifOrientation6ComesOutUpright) {
  const cv::Mat rotated = read_image(face("derived_exif_orientation6_C000537.jpg"));
  EXPECT_EQ(read_image_header_size(face("derived_exif_orientation6_C000537.jpg")), cv::Size(825, 675));
  ASSERT_EQ(rotated.size(), cv::Size(675, 825));
  // Same picture as the upright source (re-encoded, so not bit-identical): the
  // mean difference is small, far below that of any other orientation.
  const cv::Mat upright = read_image(face("congress_C000537_glasses_older.jpg"));
  ASSERT_EQ(upright.size(), rotated.size());
  const double diff = cv::norm(rotated, upright, cv::NORM_L1) / static_cast<double>(upright.total() * 3);
  cv::Mat flipped;
  cv::flip(upright, flipped, -1);
  const double diff_flipped = cv::norm(rotated, flipped, cv::NORM_L1) / static_cast<double>(upright.total() * 3);
  EXPECT_LT(diff, 4.0);
  EXPECT_GT(diff_flipped, 5 * diff);
}

TEST(ImageFixtures, GrayscaleJpegHasThreeEqualChannels) {
  const cv::Mat img = read_image(face("nara_1879_grayscale_large.jpg"));
  EXPECT_EQ(img.size(), cv::Size(2089, 3000));
  EXPECT_EQ(img.type(), CV_8UC3);
  EXPECT_TRUE(channels_equal(img));
}

TEST(ImageFixtures, GrayAlphaPngIsGray) {
  const cv::Mat img = read_image(face("oldpics_profile_gray_alpha.png"));
  EXPECT_EQ(img.size(), cv::Size(450, 600));
  EXPECT_TRUE(channels_equal(img));
}

TEST(ImageFixtures, TransparentCornersBecomeMidGrey) {
  const cv::Mat img = read_image(face("derived_alpha_cutout_S001223.png"));
  ASSERT_EQ(img.size(), cv::Size(450, 550));
  const int g = kAlphaBackgroundGrey;
  for (const cv::Point p : {cv::Point(0, 0), cv::Point(449, 0), cv::Point(0, 549), cv::Point(449, 549)})
    EXPECT_EQ(img.at<cv::Vec3b>(p), cv::Vec3b(g, g, g)) << p;
  // The opaque centre keeps the photo's pixels.
  const cv::Mat jpeg = read_image(face("congress_S001223_glasses.jpg"));
  const cv::Rect centre(175, 225, 100, 100);
  EXPECT_LT(cv::norm(img(centre), jpeg(centre), cv::NORM_L1) / (100.0 * 100 * 3), 2.0);
}

}  // namespace
}  // namespace facemix
