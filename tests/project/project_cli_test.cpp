// `facemix project` end to end on the shared portraits with small.safetensors.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include "facemix/latents.h"
#include "facemix/sha256.h"
#include "projection_fixture.h"
#include "test_support.h"

using namespace facemix::test;
namespace fs = std::filesystem;

namespace {

std::string face(const std::string& name) { return faces_dir() + "/" + name; }
std::string small_model() { return golden_dir() + "/small.safetensors"; }
const std::string kQuick = "16:4,64:4";  // a short schedule: these tests check plumbing, not quality

// One thread: these small models gain nothing from two, and a second thread
// on a busy machine waits for a core at every parallel region.
CliResult project(std::vector<std::string> args) {
  args.insert(args.begin(), {"--threads", "1", "project"});
  return run_facemix(args);
}

TEST(ProjectCli, WritesLatentSidecarAndReconstructionPerPhoto) {
  ScratchDir dir;
  const auto r = project({face("congress_C001080.jpg"), face("congress_S001223_glasses.jpg"),
                              "--model", small_model(), "--out-dir", dir.path(), "--schedule", kQuick});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"congress_C001080.json", "congress_C001080.npz",
                                                  "congress_C001080_projected.png", "congress_S001223_glasses.json",
                                                  "congress_S001223_glasses.npz",
                                                  "congress_S001223_glasses_projected.png"}));
  EXPECT_NE(r.out.find(dir.file("congress_C001080.npz") + "\n"), std::string::npos) << r.out;

  const torch::Tensor w = facemix::read_latents(dir.file("congress_C001080.npz"));
  EXPECT_EQ(w.sizes(), (std::vector<int64_t>{1, 10, 128}));
  const auto j = nlohmann::json::parse(read_file(dir.file("congress_C001080.json")));
  EXPECT_EQ(j["model_sha256"], facemix::sha256_file_hex(small_model()));
  EXPECT_EQ(j["image_sha256"], facemix::sha256_file_hex(face("congress_C001080.jpg")));
  EXPECT_EQ(j["image"], "congress_C001080.jpg");
  EXPECT_EQ(j["projection"]["schedule"], "16:4,64:4");
  EXPECT_EQ(j["projection"]["space"], "w");
  const cv::Mat rec = cv::imread(dir.file("congress_C001080_projected.png"));
  EXPECT_EQ(rec.size(), cv::Size(64, 64));
}

TEST(ProjectCli, SameSeedSameBytes) {
  ScratchDir a, b;
  for (const ScratchDir* d : {&a, &b}) {
    const auto r = project({face("congress_C001080.jpg"), "--model", small_model(), "--out-dir",
                                d->path(), "--schedule", kQuick, "--space", "wplus", "--seed", "5"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  EXPECT_TRUE(read_file(a.file("congress_C001080.npz")) == read_file(b.file("congress_C001080.npz")));
  EXPECT_TRUE(read_file(a.file("congress_C001080_projected.png")) ==
              read_file(b.file("congress_C001080_projected.png")));
}

TEST(ProjectCli, PerceptualLossFromATorchScriptModule) {
  ScratchDir dir;
  const std::string module = make_perceptual_module(dir);
  const auto r = project({face("congress_C001080.jpg"), "--model", small_model(), "--out-dir", dir.path(),
                          "--schedule", kQuick, "--perceptual", module});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(read_file(dir.file("congress_C001080.json")));
  EXPECT_EQ(j["projection"]["loss"], "perceptual");
  EXPECT_EQ(j["projection"]["perceptual_model"], module);
}

TEST(ProjectCli, AFacelessPhotoFailsButTheOthersAreProjected) {
  ScratchDir dir;
  const auto r = project({face("noface_coffee.png"), face("congress_C001080.jpg"), "--model",
                              small_model(), "--out-dir", dir.path(), "--schedule", kQuick});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("noface_coffee.png"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(dir.file("congress_C001080.npz")));
  EXPECT_FALSE(fs::exists(dir.file("noface_coffee.npz")));
}

TEST(ProjectCli, BadCommandLinesAndModels) {
  ScratchDir dir;
  const std::string img = face("congress_C001080.jpg");
  EXPECT_EQ(project({img, "--model", small_model()}).exit_code, 2);  // no --out-dir
  ScratchDir other;
  write_file(other.file("plain"), "not a directory");  // --out-dir names a file
  EXPECT_EQ(project({img, "--model", small_model(), "--out-dir", other.file("plain")}).exit_code, 4);
  EXPECT_EQ(project({img, "--model", small_model(), "--out-dir", dir.path(), "--schedule", "64:0"})
                .exit_code,
            2);
  EXPECT_EQ(project({img, "--model", small_model(), "--out-dir", dir.path(), "--space", "z"}).exit_code,
            2);
  const auto bad = project({img, "--model", img, "--out-dir", dir.path()});
  EXPECT_EQ(bad.exit_code, 5) << bad.err;
  const auto perceptual = project(
      {img, "--model", small_model(), "--out-dir", dir.path(), "--perceptual", dir.file("none.pt")});
  EXPECT_EQ(perceptual.exit_code, 5) << perceptual.err;
  EXPECT_TRUE(dir.list().empty());
}

TEST(ProjectCli, ExistingOutputsAreRefusedOrSkipped) {
  ScratchDir dir;
  const std::string img = face("congress_C001080.jpg");
  write_file(dir.file("congress_C001080.npz"), "precious");
  auto r = project({img, "--model", small_model(), "--out-dir", dir.path(), "--schedule", kQuick});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(read_file(dir.file("congress_C001080.npz")), "precious");
  EXPECT_EQ(dir.list().size(), 1u);
  r = run_facemix(
      {"-n", "--threads", "1", "project", img, "--model", small_model(), "--out-dir", dir.path(), "--schedule", kQuick});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir.file("congress_C001080.npz")), "precious");
}

}  // namespace
