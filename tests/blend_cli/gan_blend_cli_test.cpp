// The main form with the GAN engine, end to end on the shared portraits with
// the 64 px golden generator small.safetensors. A short projection schedule
// keeps these fast (they check the plumbing; the projection's quality is
// measured in tests/project); GanBlendDefaults runs the default settings.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "facemix/face.h"
#include "facemix/image_io.h"
#include "facemix/latents.h"
#include "paste_check.h"
#include "test_support.h"

using namespace facemix::test;
namespace fs = std::filesystem;

namespace {

std::string face(const std::string& name) { return faces_dir() + "/" + name; }
std::string small_model() { return golden_dir() + "/small.safetensors"; }
const std::string kA = "congress_C001080.jpg";
const std::string kB = "congress_N000179_older.jpg";
const char* kQuick = "16:4,64:4";

bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  if (a.size() != b.size() || a.type() != b.type()) return false;
  cv::Mat d;
  cv::absdiff(a, b, d);
  return cv::countNonZero(d.reshape(1)) == 0;
}

class GanBlendCli : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("FACEMIX_MODEL", "", 1); }
  // facemix A B --engine gan --model small --schedule quick --size 64 + args
  CliResult gan(std::vector<std::string> args, std::vector<std::string> inputs = {}) {
    if (inputs.empty()) inputs = {face(kA), face(kB)};
    args.insert(args.begin(), inputs.begin(), inputs.end());
    // One thread: the 64 px model gains nothing from two, and a second thread
    // on a busy machine waits for a core at every parallel region.
    args.insert(args.end(), {"--engine", "gan", "--model", small_model(), "--schedule", kQuick, "--threads", "1"});
    return run_facemix(args);
  }
  ScratchDir dir;
};

TEST_F(GanBlendCli, BlendsTwoPhotosAtTheRequestedSize) {
  const std::string out = dir.file("blend.png");
  const auto r = gan({"--size", "96", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, out + "\n");
  EXPECT_EQ(cv::imread(out).size(), cv::Size(96, 96));
  // Same seed, same bytes; another seed, another blend.
  const std::string again = dir.file("again.png"), other = dir.file("other.png");
  ASSERT_EQ(gan({"--size", "96", "-o", again}).exit_code, 0);
  EXPECT_TRUE(read_file(out) == read_file(again));
  ASSERT_EQ(gan({"--size", "96", "--seed", "9", "-o", other}).exit_code, 0);
  EXPECT_FALSE(read_file(out) == read_file(other));
}

TEST_F(GanBlendCli, AutoPicksTheGanEngineWhenAModelIsFound) {
  ::setenv("FACEMIX_MODEL", small_model().c_str(), 1);
  const auto r = run_facemix(
      {face(kA), face(kB), "--schedule", kQuick, "--threads", "1", "--size", "64", "-o", dir.file("b.png")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("GAN engine"), std::string::npos) << r.err;
}

TEST_F(GanBlendCli, OneHotWeightsRenderThatInputsReconstruction) {
  const std::string out = dir.file("a.png");
  fs::create_directory(dir.file("keep"));
  const auto r = gan({"-w", "1,0", "--size", "64", "--keep-aligned", dir.file("keep"), "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string rec = dir.file("keep") + "/congress_C001080_projected.png";
  const std::string crop = dir.file("keep") + "/congress_C001080_aligned.png";
  ASSERT_TRUE(fs::exists(rec)) << r.out;
  ASSERT_TRUE(fs::exists(crop)) << r.out;
  EXPECT_EQ(cv::imread(crop).size(), cv::Size(64, 64));
  EXPECT_TRUE(same_pixels(cv::imread(out), cv::imread(rec)));
  const std::string even = dir.file("even.png");
  ASSERT_EQ(gan({"--size", "64", "-o", even}).exit_code, 0);
  EXPECT_FALSE(same_pixels(cv::imread(even), cv::imread(rec)));
}

TEST_F(GanBlendCli, SavedLatentsBlendLikeThePhotos) {
  fs::create_directory(dir.file("lat"));
  const std::string from_photos = dir.file("photos.png");
  auto r = gan({"--size", "64", "--save-latents", dir.file("lat"), "-w", "0.3,0.7", "-o", from_photos});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string a = dir.file("lat") + "/congress_C001080.npz", b = dir.file("lat") + "/congress_N000179_older.npz";
  ASSERT_TRUE(fs::exists(a) && fs::exists(b)) << r.out;
  EXPECT_EQ(facemix::read_latents(a).sizes(), (std::vector<int64_t>{1, 10, 128}));
  const auto side = nlohmann::json::parse(read_file(dir.file("lat") + "/congress_C001080.json"));
  EXPECT_EQ(side["image"], "congress_C001080.jpg");

  // Latent files as inputs (positional, --latents, or mixed with a photo) skip projection.
  const std::string from_latents = dir.file("latents.png");
  r = run_facemix({a, b, "--engine", "gan", "--model", small_model(), "--size", "64", "-w", "0.3,0.7", "--threads",
                   "1", "-o", from_latents});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(read_file(from_photos) == read_file(from_latents));
  const std::string listed = dir.file("listed.png");
  r = run_facemix({"--latents", a + "," + b, "--engine", "gan", "--model", small_model(), "--size", "64", "-w",
                   "0.3,0.7", "--threads", "1", "-o", listed});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(read_file(from_photos) == read_file(listed));
  // A photo and a latent: the photo is projected alone, and a photo's latent
  // does not depend on the other photos in its batch.
  const std::string mixed = dir.file("mixed.png");
  r = gan({"--size", "64", "-w", "0.3,0.7", "-o", mixed}, {face(kA), b});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(read_file(from_photos) == read_file(mixed));
}

TEST_F(GanBlendCli, LayerMixAndTruncationChangeTheBlend) {
  const std::string plain = dir.file("plain.png"), mixed = dir.file("mixed.png");
  ASSERT_EQ(gan({"--size", "64", "-o", plain}).exit_code, 0);
  const auto r = gan({"--size", "64", "--mix", "coarse=@1", "--mix", "fine=0.1,0.9", "-o", mixed});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(read_file(plain) == read_file(mixed));
  // psi 0: every blend is the model's average face.
  const std::string t1 = dir.file("t1.png"), t2 = dir.file("t2.png");
  ASSERT_EQ(gan({"--size", "64", "--truncation", "0", "-o", t1}).exit_code, 0);
  ASSERT_EQ(gan({"--size", "64", "--truncation", "0", "-w", "0.9,0.1", "-o", t2}).exit_code, 0);
  EXPECT_TRUE(read_file(t1) == read_file(t2));
  EXPECT_FALSE(read_file(t1) == read_file(plain));
}

TEST_F(GanBlendCli, PasteBackChangesOnlyTheFaceRegion) {
  const std::string out = dir.file("pasted.png");
  const auto r = gan({"--paste-back", "--size", "256", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const PasteChanges c = paste_changes(face(kA), out);
  EXPECT_EQ(c.outside, 0);
  EXPECT_GT(c.inside, c.face_area / 3);
}

TEST_F(GanBlendCli, SequenceOfLatentInterpolations) {
  const std::string frames = dir.file("frames") + "/";
  const auto r = gan({"--size", "64", "--frames", "3", "-o", frames});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::distance(fs::directory_iterator(frames), fs::directory_iterator{}), 3);
}

TEST_F(GanBlendCli, LatentOfAnotherModelIsRefused) {
  fs::create_directory(dir.file("lat"));
  // tiny's latents: [1, 8, 64], not small's [1, 10, 128].
  facemix::write_latents_npz(dir.file("lat/tiny.npz"), torch::zeros({1, 8, 64}));
  const std::string out = dir.file("x.png");
  auto r = gan({"--size", "64", "-o", out}, {face(kA), dir.file("lat/tiny.npz")});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("tiny.npz"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
  // Same shape, but the sidecar names another model.
  facemix::write_latents_npz(dir.file("lat/other.npz"), torch::zeros({1, 10, 128}));
  write_file(dir.file("lat/other.json"),
             R"({"format": "facemix-latent", "version": 1, "model_sha256": ")" + std::string(64, '0') + R"("})");
  r = gan({"--size", "64", "-o", out}, {face(kA), dir.file("lat/other.npz")});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("another model"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(GanBlendCli, BadInputsFailCleanly) {
  const std::string out = dir.file("x.png");
  write_file(dir.file("junk.npz"), "not a zip archive");
  auto r = gan({"--size", "64", "-o", out}, {face(kA), dir.file("junk.npz")});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("junk.npz"), std::string::npos) << r.err;
  r = gan({"--size", "64", "-o", out}, {face(kA), dir.file("missing.npz")});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  r = gan({"--size", "64", "-w", "0.2,0.3,0.5", "-o", out});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = gan({"--size", "64", "--mix", "coarse=@3", "-o", out});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = gan({"--size", "64", "--mix", "middle", "-o", out});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // Latent inputs and --mix need the GAN engine.
  r = run_facemix({face(kA), dir.file("junk.npz"), "--engine", "morph", "-o", out});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_facemix({face(kA), face(kB), "--engine", "morph", "--mix", "coarse=@1", "-o", out});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // --engine gan without any model: a model error pointing to the docs.
  r = run_facemix({face(kA), face(kB), "--engine", "gan", "-o", out});
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("models/README.md"), std::string::npos) << r.err;
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"junk.npz"}));
}

TEST_F(GanBlendCli, CtrlCExits130AndLeavesNoOutput) {
  const std::string out = dir.file("x.png");
  fs::create_directory(dir.file("lat"));
  // A long projection, interrupted after two seconds.
  const std::string cmd = "cd '" + dir.path() + "' && timeout --preserve-status -s INT 2 '" + facemix_binary() +
                          "' '" + face(kA) + "' '" + face(kB) + "' --engine gan --model '" + small_model() +
                          "' --schedule 64:100000 --threads 1 --save-latents lat -o '" + out + "' 2>err.txt";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130) << read_file(dir.file("err.txt"));
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(dir.file("lat")));
}

}  // namespace
