// Every kind of output file gets the mode a plain open(path, O_CREAT, 0666)
// gets under the umask, whatever library wrote it (giflib, for one, creates
// its files 0600). Run under umask 022 and 077.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "facemix/image_io.h"
#include "facemix/latent_store.h"
#include "facemix/output.h"
#include "facemix/safetensors.h"
#include "facemix/sequence.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace facemix;
using facemix::test::ScratchDir;

namespace {

// Sets the process umask for one test and restores it after.
class UmaskTest : public ::testing::TestWithParam<mode_t> {
 protected:
  void SetUp() override { old_ = ::umask(GetParam()); }
  void TearDown() override { ::umask(old_); }
  mode_t file_mode() const { return 0666 & ~GetParam(); }
  mode_t dir_mode() const { return 0777 & ~GetParam(); }

 private:
  mode_t old_ = 022;
};

mode_t mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) ADD_FAILURE() << path << ": cannot stat";
  return st.st_mode & 07777;
}

#define EXPECT_MODE(path, mode) EXPECT_EQ(mode_of(path), (mode)) << (path) << std::oct << " mode 0" << mode_of(path)

cv::Mat frame(int i) { return cv::Mat(32, 32, CV_8UC3, cv::Scalar(10 * i, 100, 200 - 10 * i)); }

}  // namespace

TEST_P(UmaskTest, Images) {
  ScratchDir d;
  for (const std::string name : {"a.png", "a.jpg", "a.webp", "a.tif"}) {
    write_image(d.file(name), frame(1));
    EXPECT_MODE(d.file(name), file_mode());
  }
}

TEST_P(UmaskTest, GifAndMp4) {
  ScratchDir d;
  for (const std::string name : {"m.gif", "m.mp4"}) {
    write_sequence(d.file(name), *sequence_format_of(name), 3, frame, {});
    EXPECT_MODE(d.file(name), file_mode());
  }
}

TEST_P(UmaskTest, FrameDirectory) {
  ScratchDir d;
  write_sequence(d.file("frames/"), SequenceFormat::kFrameDirectory, 3, frame, {});
  EXPECT_MODE(d.file("frames"), dir_mode());
  for (const auto& e : fs::directory_iterator(d.file("frames"))) EXPECT_MODE(e.path().string(), file_mode());
}

TEST_P(UmaskTest, LatentAndSidecar) {
  ScratchDir d;
  LatentRecord rec;
  rec.image = "a.jpg";
  rec.num_ws = 4;
  rec.w_dim = 8;
  rec.projection_json = "{}";
  save_latent(d.file("a.npz"), torch::zeros({1, 4, 8}), rec);
  EXPECT_MODE(d.file("a.npz"), file_mode());
  EXPECT_MODE(d.file("a.json"), file_mode());
}

TEST_P(UmaskTest, SafetensorsAndReports) {
  ScratchDir d;
  write_safetensors(d.file("m.safetensors"), {{"x", torch::ones({2, 3})}}, {{"format", "test"}});
  EXPECT_MODE(d.file("m.safetensors"), file_mode());
  write_bytes_atomic(d.file("report.json"), "{}\n");  // align's --landmarks-json and the like
  EXPECT_MODE(d.file("report.json"), file_mode());
}

TEST_P(UmaskTest, ReplacingAFileGivesTheNewFileMode) {
  ScratchDir d;
  test::write_file(d.file("a.png"), "old");
  fs::permissions(d.file("a.png"), fs::perms::owner_read | fs::perms::owner_write);
  write_image(d.file("a.png"), frame(2));
  EXPECT_MODE(d.file("a.png"), file_mode());
}

INSTANTIATE_TEST_SUITE_P(Umask, UmaskTest, ::testing::Values(mode_t{022}, mode_t{077}, mode_t{002}),
                         [](const auto& p) {
                           char name[8];
                           std::snprintf(name, sizeof name, "u%03o", static_cast<unsigned>(p.param));
                           return std::string(name);
                         });
