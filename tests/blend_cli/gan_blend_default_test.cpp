// The GAN engine at its default settings (default projection schedule), end
// to end on two shared portraits with the 64 px golden generator.
#include <gtest/gtest.h>

#include <cstdlib>

#include <opencv2/imgcodecs.hpp>

#include "test_support.h"

using namespace facemix::test;

TEST(GanBlendDefaults, TwoPortraitsWithSmallModel) {
  ::setenv("FACEMIX_MODEL", "", 1);
  ScratchDir dir;
  const std::string out = dir.file("blend.png");
  const auto r = run_facemix({faces_dir() + "/congress_C001080.jpg", faces_dir() + "/congress_S001223_glasses.jpg",
                              "--engine", "gan", "--model", golden_dir() + "/small.safetensors", "--size", "128",
                              // one thread: a 64 px model gains nothing from two on a busy machine
                              "--threads", "1", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, out + "\n");
  EXPECT_EQ(cv::imread(out).size(), cv::Size(128, 128));
}
