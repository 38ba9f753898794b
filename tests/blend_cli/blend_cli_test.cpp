// End-to-end tests of the main form, `facemix IMAGE IMAGE... -o OUT`, on the
// shared photos, without any GAN model (the morph engine).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "facemix/face.h"
#include "facemix/image_io.h"
#include "paste_check.h"
#include "test_support.h"

using namespace facemix::test;
namespace fs = std::filesystem;

namespace {

std::string face(const std::string& name) { return faces_dir() + "/" + name; }
const std::string kA = "congress_C001080.jpg";
const std::string kB = "congress_N000179_older.jpg";
const std::string kC = "congress_K000389_flag.jpg";

class BlendCli : public ::testing::Test {
 protected:
  void SetUp() override {
    // No GAN model anywhere: the default engine must fall back to morph.
    ::setenv("FACEMIX_MODEL", "", 1);
  }
  CliResult blend(std::vector<std::string> args) {
    args.insert(args.begin(), {face(kA), face(kB)});
    args.insert(args.end(), {"--size", "256"});
    return run_facemix(args);
  }
  ScratchDir dir;
};

bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return false;
  cv::Mat d;
  cv::absdiff(a, b, d);
  return cv::countNonZero(d.reshape(1)) == 0;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

std::string run_shell(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe.get())) out.append(buf, n);
  return out;
}

}  // namespace

TEST_F(BlendCli, BlendsTwoPhotosWithTheMorphEngineWhenNoModelIsFound) {
  const std::string out = dir.file("blend.png");
  const auto r = blend({"-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count(r.err, "morph engine"), 1) << r.err;  // one notice line
  EXPECT_NE(r.err.find("models/README.md"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, out + "\n");
  const cv::Mat img = cv::imread(out);
  ASSERT_EQ(img.size(), cv::Size(256, 256));
  // Deterministic: the same command gives the same bytes.
  const std::string again = dir.file("again.png");
  ASSERT_EQ(blend({"-o", again}).exit_code, 0);
  EXPECT_EQ(read_file(out), read_file(again));
  // --engine morph says nothing about models.
  const auto m = blend({"-o", dir.file("m.png"), "--engine", "morph"});
  ASSERT_EQ(m.exit_code, 0) << m.err;
  EXPECT_EQ(count(m.err, "morph engine"), 0) << m.err;
  EXPECT_EQ(read_file(out), read_file(dir.file("m.png")));
}

TEST_F(BlendCli, AutoWithAnUnusableModelIsAModelError) {
  // A found model selects the GAN engine (tests/blend_cli/gan_blend_cli_test.cpp);
  // one that is not a model fails loudly instead of falling back to morph.
  ::setenv("FACEMIX_MODEL", face(kC).c_str(), 1);
  const auto r = blend({"-o", dir.file("blend.png")});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find(kC), std::string::npos) << r.err;
  ::setenv("FACEMIX_MODEL", "", 1);
  const auto missing = blend({"--model", dir.file("none.safetensors"), "-o", dir.file("x.png")});
  EXPECT_EQ(missing.exit_code, 5) << missing.err;
  EXPECT_NE(missing.err.find("none.safetensors"), std::string::npos) << missing.err;
  EXPECT_TRUE(dir.list().empty());
}

TEST_F(BlendCli, WeightOneReturnsTheAlignedCrop) {
  const std::string out = dir.file("a.png"), even = dir.file("even.png");
  fs::create_directory(dir.file("aligned"));
  const auto r = blend({"-w", "1,0", "--keep-aligned", dir.file("aligned"), "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string crop = dir.file("aligned") + "/congress_C001080_aligned.png";
  ASSERT_TRUE(fs::exists(crop)) << r.out;
  EXPECT_TRUE(same_pixels(cv::imread(out), cv::imread(crop)));
  ASSERT_EQ(blend({"-o", even}).exit_code, 0);
  EXPECT_FALSE(same_pixels(cv::imread(even), cv::imread(crop)));
}

TEST_F(BlendCli, ThreeInputsWithWeights) {
  const std::string out = dir.file("three.jpg");
  const auto r = run_facemix({face(kA), face(kB), face(kC), "-w", "2,1,1", "--size", "256", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(facemix::read_image(out).size(), cv::Size(256, 256));
}

TEST_F(BlendCli, PasteBackKeepsThePhotoOutsideTheFace) {
  const std::string out = dir.file("pasted.png");
  const auto r = blend({"--paste-back", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const PasteChanges c = paste_changes(face(kA), out);
  EXPECT_EQ(c.outside, 0);
  EXPECT_GT(c.inside, c.face_area / 3);  // the face really changed

  const std::string into = dir.file("into.png");
  ASSERT_EQ(blend({"--paste-into", "2", "-o", into}).exit_code, 0);
  EXPECT_EQ(cv::imread(into).size(), facemix::read_image(face(kB)).size());
}

TEST_F(BlendCli, GifSequenceHasEveryFrame) {
  const std::string out = dir.file("morph.gif");
  const auto r = blend({"--frames", "5", "--boomerang", "--fps", "10", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string info = run_shell("identify -format '%m %w %h %T\\n' '" + out + "'");
  EXPECT_EQ(count(info, "\n"), 8) << info;
  EXPECT_EQ(count(info, "GIF 256 256 10\n"), 8) << info;
}

TEST_F(BlendCli, FrameDirectoryStartsAndEndsAtTheInputs) {
  const std::string frames = dir.file("frames") + "/";
  const auto r = blend({"--frames", "4", "-o", frames});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::distance(fs::directory_iterator(frames), fs::directory_iterator{}), 4);
  ASSERT_EQ(blend({"-w", "1,0", "-o", dir.file("first.png")}).exit_code, 0);
  ASSERT_EQ(blend({"-w", "0,1", "-o", dir.file("last.png")}).exit_code, 0);
  EXPECT_TRUE(same_pixels(cv::imread(frames + "frame_0001.png"), cv::imread(dir.file("first.png"))));
  EXPECT_TRUE(same_pixels(cv::imread(frames + "frame_0004.png"), cv::imread(dir.file("last.png"))));
  EXPECT_FALSE(same_pixels(cv::imread(frames + "frame_0002.png"), cv::imread(dir.file("first.png"))));
}

TEST_F(BlendCli, Mp4SequenceHasEveryFrame) {
  const std::string out = dir.file("morph.mp4");
  const auto r = blend({"--frames", "6", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  cv::VideoCapture cap(out);
  ASSERT_TRUE(cap.isOpened());
  EXPECT_EQ(static_cast<int>(cap.get(cv::CAP_PROP_FRAME_COUNT)), 6);
}

TEST_F(BlendCli, MismatchedWeightCountIsAUsageError) {
  const std::string out = dir.file("x.png");
  const auto r = blend({"-w", "0.2,0.3,0.5", "-o", out});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("-w"), std::string::npos) << r.err;
  EXPECT_TRUE(dir.list().empty());
}

TEST_F(BlendCli, NoFacePhotoExits3AndWritesNothing) {
  const std::string out = dir.file("x.png");
  const auto r = run_facemix({face(kA), face("noface_coffee.png"), "--size", "256", "-o", out});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("noface_coffee.png"), std::string::npos) << r.err;
  EXPECT_TRUE(dir.list().empty());
}

TEST_F(BlendCli, ExistingOutputNeedsYes) {
  const std::string out = dir.file("x.png");
  write_file(out, "precious");
  auto r = blend({"-o", out});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find(out), std::string::npos) << r.err;
  EXPECT_EQ(read_file(out), "precious");
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"x.png"}));
  r = run_facemix({"-n", face(kA), face(kB), "--size", "256", "-o", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(out), "precious");
  r = run_facemix({"-y", face(kA), face(kB), "--size", "256", "-o", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cv::imread(out).size(), cv::Size(256, 256));
}

TEST_F(BlendCli, BadCommandLinesExit2BeforeAnyWork) {
  const std::string png = dir.file("x.png");
  const std::vector<std::vector<std::string>> cases = {
      {face(kA), "-o", png},                                         // one input
      {face(kA), face(kB)},                                          // no -o
      {face(kA), face(kB), "--frames", "5", "-o", png},              // sequence into an image
      {face(kA), face(kB), "-o", dir.file("x.gif")},                 // GIF without --frames
      {face(kA), face(kB), "--frames", "5", "-w", "1,1", "-o", dir.file("x.gif")},
      {face(kA), face(kB), "--paste-into", "3", "-o", png},
      {face(kA), face(kB), "--fps", "10", "-o", png},                // --fps needs --frames
      {face(kA), face(kB), "-o", dir.file("x.xyz")},                 // unknown image type
      {face(kA), face(kB), "--engine", "magic", "-o", png},
  };
  for (const auto& args : cases) {
    const auto r = run_facemix(args);
    std::string line;
    for (const auto& a : args) line += a + " ";
    EXPECT_EQ(r.exit_code, 2) << line << "\n" << r.err;
    EXPECT_TRUE(dir.list().empty()) << line;
  }
}

TEST_F(BlendCli, MissingInputExits4NamingIt) {
  const std::string missing = dir.file("nope.jpg");
  const auto r = run_facemix({face(kA), missing, "-o", dir.file("x.png")});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
  EXPECT_EQ(dir.list(), std::vector<std::string>{});
}

TEST_F(BlendCli, NeverOverwritesAnInput) {
  const std::string copy = dir.file("a.jpg");
  fs::copy_file(face(kA), copy);
  const auto r = run_facemix({"-y", copy, face(kB), "--size", "256", "-o", copy});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(read_file(copy), read_file(face(kA)));
}

TEST_F(BlendCli, MaxPixelsRefusesALargerPhotoByName) {
  const cv::Size size = facemix::read_image_header_size(face(kA));  // kB has the same size
  const std::int64_t pixels = static_cast<std::int64_t>(size.width) * size.height;
  const std::string out = dir.file("x.png");
  const auto r = blend({"--max-pixels", std::to_string(pixels - 1), "-o", out});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_NE(r.err.find(face(kA)), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--max-pixels"), std::string::npos) << r.err;
  EXPECT_TRUE(dir.list().empty());
  // At the limit exactly, the same blend runs.
  const auto ok = blend({"--max-pixels", std::to_string(pixels), "-y", "-o", out});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}
