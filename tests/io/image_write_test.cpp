// write_image: format by extension, atomic, deterministic; extension checks.
#include <gtest/gtest.h>

#include <string>

#include <opencv2/core.hpp>

#include "facemix/errors.h"
#include "facemix/image_io.h"
#include "test_support.h"

namespace facemix {
namespace {

using test::ScratchDir;

cv::Mat sample() {
  cv::Mat m(24, 32, CV_8UC3);
  cv::RNG rng(3);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  return m;
}

TEST(WriteImage, EveryExtensionWritesThatFormat) {
  ScratchDir dir;
  const cv::Mat img = sample();
  const struct {
    const char* name;
    std::string magic;
  } cases[] = {{"a.png", "\x89PNG"}, {"a.jpg", "\xFF\xD8\xFF"}, {"a.JPEG", "\xFF\xD8\xFF"},
               {"a.webp", "RIFF"},   {"a.bmp", "BM"},          {"a.tif", std::string("II*\0", 4)},
               {"a.tiff", std::string("II*\0", 4)}};
  for (const auto& c : cases) {
    write_image(dir.file(c.name), img);
    const std::string bytes = test::read_file(dir.file(c.name));
    EXPECT_EQ(bytes.substr(0, c.magic.size()), c.magic) << c.name;
    const cv::Mat back = read_image(dir.file(c.name));
    EXPECT_EQ(back.size(), img.size()) << c.name;
  }
  EXPECT_EQ(cv::norm(read_image(dir.file("a.png")), img, cv::NORM_INF), 0.0);
}

TEST(WriteImage, UnknownExtensionIsAUsageErrorAndWritesNothing) {
  ScratchDir dir;
  for (const char* name : {"out.gif", "out", "out.png.txt", "out.jpg2"}) {
    EXPECT_THROW(check_image_output_extension(dir.file(name)), UsageError) << name;
    EXPECT_THROW(write_image(dir.file(name), sample()), UsageError) << name;
  }
  EXPECT_TRUE(dir.list().empty());
  EXPECT_NO_THROW(check_image_output_extension("x/Y.PNG"));
  try {
    check_image_output_extension("out.gif");
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("out.gif"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find(".png"), std::string::npos);
  }
}

TEST(WriteImage, SamePixelsGiveSameBytesAndNoTemporaryFilesRemain) {
  ScratchDir dir;
  for (const char* ext : {".png", ".jpg", ".webp"}) {
    write_image(dir.file(std::string("one") + ext), sample());
    write_image(dir.file(std::string("two") + ext), sample());
    EXPECT_EQ(test::read_file(dir.file(std::string("one") + ext)),
              test::read_file(dir.file(std::string("two") + ext)))
        << ext;
  }
  EXPECT_EQ(dir.list().size(), 6u);  // no leftover temporaries
}

TEST(WriteImage, FailureLeavesNothingBehind) {
  ScratchDir dir;
  EXPECT_THROW(write_image(dir.file("missing_dir/out.png"), sample()), IoError);
  EXPECT_TRUE(dir.list().empty());
}

TEST(DerivedOutputPath, UsesStemSuffixAndExtension) {
  EXPECT_EQ(derived_output_path("a/b/photo.jpg", "out", "_aligned", ".png"), "out/photo_aligned.png");
  EXPECT_EQ(derived_output_path("photo.tar.jpeg", "/tmp/x/", "_aligned", ".webp"),
            "/tmp/x/photo.tar_aligned.webp");
}

}  // namespace
}  // namespace facemix
