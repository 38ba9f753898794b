// `facemix align` as a user runs it: outputs, stdout, exit codes, messages,
// overwrite policy and bad inputs.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "facemix/errors.h"
#include "facemix/image_io.h"
#include "test_support.h"
#include "test_tiff.h"

namespace facemix {
namespace {

namespace fs = std::filesystem;
using test::CliResult;
using test::run_facemix;
using test::ScratchDir;

std::string face(const std::string& name) { return test::faces_dir() + "/" + name; }
const std::string kGood = "congress_C001080.jpg";

bool mentions(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

TEST(AlignCli, HelpDocumentsOutputsAndExitCodes) {
  const CliResult r = run_facemix({"align", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(mentions(r.out, "--out-dir"));
  EXPECT_TRUE(mentions(r.out, "first failure"));
  EXPECT_TRUE(mentions(r.out, "--landmarks-json"));
}

TEST(AlignCli, AlignsOnePhotoAndPrintsTheOutputPath) {
  ScratchDir dir;
  const std::string out = dir.file("aligned.png"), report = dir.file("lm.json");
  const CliResult r = run_facemix({"align", face(kGood), "-o", out, "--size", "64", "--landmarks-json", report});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, out + "\n");
  EXPECT_EQ(read_image(out).size(), cv::Size(64, 64));

  const auto j = nlohmann::json::parse(test::read_file(report));
  ASSERT_EQ(j["images"].size(), 1u);
  const auto& e = j["images"][0];
  EXPECT_EQ(e["file"], face(kGood));
  EXPECT_EQ(e["image_size"], nlohmann::json::array({675, 825}));
  EXPECT_EQ(e["faces"].size(), 1u);
  EXPECT_EQ(e["selected"], 0);
  EXPECT_EQ(e["landmarks"].size(), 68u);
  EXPECT_EQ(e["quad"].size(), 4u);
  EXPECT_EQ(e["plan"]["output_size"], 64);
  EXPECT_EQ(e["plan"]["transform_size"], 256);
  // aligned_to_original maps the aligned centre near the eyes-to-mouth midline.
  const auto& m = e["aligned_to_original"];
  const double cx = m[0][0].get<double>() * 31.5 + m[0][1].get<double>() * 31.5 + m[0][2].get<double>();
  const double eye_x = (e["landmarks"][36][0].get<double>() + e["landmarks"][45][0].get<double>()) / 2;
  EXPECT_NEAR(cx, eye_x, 20);
  // Both maps are present and invert each other.
  const auto& inv = e["original_to_aligned"];
  const double back = inv[0][0].get<double>() * cx + inv[0][1].get<double>() *
                      (m[1][0].get<double>() * 31.5 + m[1][1].get<double>() * 31.5 + m[1][2].get<double>()) +
                      inv[0][2].get<double>();
  EXPECT_NEAR(back, 31.5, 1e-6);
}

TEST(AlignCli, SameInputsGiveTheSameBytes) {
  ScratchDir dir;
  ASSERT_EQ(run_facemix({"align", face(kGood), "-o", dir.file("a.png"), "--size", "48"}).exit_code, 0);
  ASSERT_EQ(run_facemix({"--threads", "1", "align", face(kGood), "-o", dir.file("b.png"), "--size", "48"}).exit_code, 0);
  EXPECT_EQ(test::read_file(dir.file("a.png")), test::read_file(dir.file("b.png")));
}

TEST(AlignCli, OutDirProcessesTheGoodInputsAndReportsTheFirstFailure) {
  ScratchDir dir;
  const CliResult r = run_facemix({"align", face("noface_coffee.png"), face(kGood), face("missing.jpg"),
                                   "--out-dir", dir.path(), "--size", "48", "--format", "jpg"});
  EXPECT_EQ(r.exit_code, kExitNoFace) << r.err;  // the first failure: no face in the coffee photo
  EXPECT_EQ(r.out, dir.file("congress_C001080_aligned.jpg") + "\n");
  EXPECT_EQ(dir.list(), std::vector<std::string>{"congress_C001080_aligned.jpg"});
  EXPECT_TRUE(mentions(r.err, face("noface_coffee.png") + ": no frontal face"));
  EXPECT_TRUE(mentions(r.err, face("missing.jpg") + ": no such file"));
}

TEST(AlignCli, FaceIndexOutOfRange) {
  ScratchDir dir;
  const CliResult r = run_facemix({"align", face(kGood), "-o", dir.file("o.png"), "--size", "32", "--face", "1"});
  EXPECT_EQ(r.exit_code, kExitNoFace);
  EXPECT_TRUE(mentions(r.err, "found 1 face")) << r.err;
  EXPECT_TRUE(dir.list().empty());
}

TEST(AlignCli, BadInputsNameTheFileAndLeaveNoOutput) {
  ScratchDir dir;
  const std::string jpeg = test::read_file(face(kGood));
  const std::string png = test::read_file(face("nasa_astronaut_portrait.png"));
  fs::create_directory(dir.file("in"));
  test::write_file(dir.file("in/empty.jpg"), "");
  test::write_file(dir.file("in/text.jpg"), "not a picture\n");
  test::write_file(dir.file("in/cut.jpg"), jpeg.substr(0, jpeg.size() / 2));
  test::write_file(dir.file("in/cut.png"), png.substr(0, png.size() / 2));
  // A PNG header claiming 100000 x 100000 pixels (a decompression bomb).
  std::string bomb = png.substr(0, 33);
  const char dims[8] = {0, 1, static_cast<char>(0x86), static_cast<char>(0xA0),
                        0, 1, static_cast<char>(0x86), static_cast<char>(0xA0)};
  bomb.replace(16, 8, dims, 8);
  test::write_file(dir.file("in/bomb.png"), bomb);
  fs::create_directory(dir.file("in/folder.jpg"));
  const std::string tiff = test::uncompressed_tiff(read_image(face(kGood)));
  test::write_file(dir.file("in/cut.tif"), tiff.substr(0, tiff.size() / 2));

  const struct {
    std::string file, what;
  } cases[] = {{dir.file("in/empty.jpg"), "empty"},
               {dir.file("in/text.jpg"), "not an image"},
               {dir.file("in/cut.jpg"), "truncated"},
               {dir.file("in/cut.png"), "truncated"},
               {dir.file("in/bomb.png"), "too large"},
               {dir.file("in/folder.jpg"), "directory"},
               {dir.file("in/nothing.jpg"), "no such file"},
               {dir.file("in/cut.tif"), "corrupt TIFF"}};
  fs::create_directory(dir.file("out"));
  for (const auto& c : cases) {
    const CliResult r = run_facemix({"align", c.file, "-o", dir.file("out/x.png")});
    EXPECT_EQ(r.exit_code, kExitIo) << c.file;
    EXPECT_TRUE(mentions(r.err, c.file + ": ")) << r.err;
    EXPECT_TRUE(mentions(r.err, c.what)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line, no codec chatter: " << r.err;
    EXPECT_TRUE(r.out.empty());
    EXPECT_TRUE(fs::is_empty(dir.file("out"))) << c.file;
  }
  // --max-pixels applies to good photos too (675 x 825 = 556875 pixels).
  const CliResult r = run_facemix({"align", face(kGood), "-o", dir.file("out/x.png"), "--max-pixels", "500000"});
  EXPECT_EQ(r.exit_code, kExitIo);
  EXPECT_TRUE(mentions(r.err, "too large")) << r.err;
  EXPECT_TRUE(fs::is_empty(dir.file("out")));
}

TEST(AlignCli, ExistingOutputsAreRefusedSkippedOrReplaced) {
  ScratchDir dir;
  const std::string out = dir.file("o.png");
  test::write_file(out, "old");
  CliResult r = run_facemix({"align", face(kGood), "-o", out, "--size", "32"});
  EXPECT_EQ(r.exit_code, kExitIo);
  EXPECT_TRUE(mentions(r.err, out)) << r.err;
  EXPECT_EQ(test::read_file(out), "old");

  r = run_facemix({"-n", "align", face(kGood), "-o", out, "--size", "32"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  EXPECT_EQ(test::read_file(out), "old");

  r = run_facemix({"align", face(kGood), "-o", out, "--size", "32", "-y"});  // global option after the command
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_image(out).size(), cv::Size(32, 32));
  EXPECT_EQ(dir.list(), std::vector<std::string>{"o.png"});  // no temporaries left
}

TEST(AlignCli, NeverOverwritesAnInputEvenWithYes) {
  ScratchDir dir;
  const std::string in = dir.file("photo.png");
  write_image(in, read_image(face(kGood)));
  const std::string before = test::read_file(in);
  CliResult r = run_facemix({"-y", "align", in, "-o", in, "--size", "32"});
  EXPECT_EQ(r.exit_code, kExitIo);
  EXPECT_TRUE(mentions(r.err, "input")) << r.err;
  EXPECT_EQ(test::read_file(in), before);
  // The same through --out-dir when the input already has the derived name.
  const std::string named = dir.file("x_aligned.png");
  fs::copy_file(in, named);
  fs::copy_file(in, dir.file("x.png"));
  r = run_facemix({"-y", "align", dir.file("x.png"), named, "--out-dir", dir.path(), "--size", "32"});
  EXPECT_EQ(r.exit_code, kExitIo);
  EXPECT_TRUE(mentions(r.err, named + ": output would overwrite an input")) << r.err;
  EXPECT_EQ(test::read_file(named), before);
  EXPECT_FALSE(fs::exists(dir.file("x_aligned_aligned.png")));
}

TEST(AlignCli, UsageErrorsComeBeforeAnyWork) {
  ScratchDir dir;
  fs::create_directory(dir.file("a"));
  fs::create_directory(dir.file("b"));
  write_image(dir.file("a/x.png"), cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(9)));
  write_image(dir.file("b/x.png"), cv::Mat(8, 8, CV_8UC3, cv::Scalar::all(9)));
  const struct {
    std::vector<std::string> args;
    std::string what;
  } cases[] = {
      {{"align", face(kGood), face(kGood), "-o", dir.file("o.png")}, "exactly one input"},
      {{"align", face(kGood)}, "--out-dir"},
      {{"align", face(kGood), "-o", dir.file("o.gif")}, "unsupported output image extension"},
      {{"align", dir.file("a/x.png"), dir.file("b/x.png"), "--out-dir", dir.path()}, "same file name"},
      {{"align", face(kGood), "-o", dir.file("o.png"), "--size", "8"}, "--size"},
      {{"align", face(kGood), "-o", dir.file("o.png"), "--out-dir", dir.path()}, "excludes"},
  };
  for (const auto& c : cases) {
    const CliResult r = run_facemix(c.args);
    EXPECT_EQ(r.exit_code, kExitUsage) << c.what << ": " << r.err;
    EXPECT_TRUE(mentions(r.err, c.what)) << r.err;
  }
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"a", "b"}));
}

TEST(AlignCli, MissingLandmarksModelIsAModelError) {
  ScratchDir dir;
  CliResult r = run_facemix({"align", face(kGood), "-o", dir.file("o.png"), "--landmarks-model", dir.file("no.dat")});
  EXPECT_EQ(r.exit_code, kExitModel);
  EXPECT_TRUE(mentions(r.err, dir.file("no.dat"))) << r.err;
  ::setenv("FACEMIX_LANDMARKS", dir.file("env.dat").c_str(), 1);
  r = run_facemix({"align", face(kGood), "-o", dir.file("o.png")});
  ::unsetenv("FACEMIX_LANDMARKS");
  EXPECT_EQ(r.exit_code, kExitModel);
  EXPECT_TRUE(mentions(r.err, "FACEMIX_LANDMARKS")) << r.err;
  EXPECT_TRUE(dir.list().empty());
}

}  // namespace
}  // namespace facemix
