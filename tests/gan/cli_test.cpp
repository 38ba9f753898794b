// `facemix generate` and `facemix info`, run as a user would, on the tiny golden model.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "facemix/gan_image.h"
#include "facemix/latents.h"
#include "facemix/model_file.h"
#include "facemix/safetensors.h"
#include "facemix/sha256.h"
#include "test_support.h"

using namespace facemix;
using facemix::test::run_facemix;
using facemix::test::ScratchDir;

namespace {

std::string tiny() { return facemix::test::golden_dir() + "/tiny.safetensors"; }

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  EXPECT_EQ(a.sizes(), b.sizes());
  if (a.sizes() != b.sizes()) return 1e30;
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST(CliGenerate, SameSeedGivesTheSameBytes) {
  ScratchDir dir;
  auto a = run_facemix({"generate", "--model", tiny(), "--seed", "3", "-o", dir.file("a.png")});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(lines(a.out), std::vector<std::string>{dir.file("a.png")});
  auto b = run_facemix({"generate", "--model", tiny(), "--seed", "3", "-o", dir.file("b.png")});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(facemix::test::read_file(dir.file("a.png")), facemix::test::read_file(dir.file("b.png")));
  auto c = run_facemix({"generate", "--model", tiny(), "--seed", "4", "-o", dir.file("c.png")});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(facemix::test::read_file(dir.file("a.png")), facemix::test::read_file(dir.file("c.png")));
  cv::Mat img = cv::imread(dir.file("a.png"), cv::IMREAD_UNCHANGED);
  EXPECT_EQ(img.type(), CV_8UC3);
  EXPECT_EQ(img.rows, 32);
}

TEST(CliGenerate, SeedRangeIntoDirectoryMatchesSingleSeeds) {
  ScratchDir dir;
  const std::string out = dir.file("faces");
  auto r = run_facemix({"generate", "--model", tiny(), "--seeds", "0-2", "--out-dir", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{out + "/seed0000.png", out + "/seed0001.png", out + "/seed0002.png"}));
  auto one = run_facemix({"generate", "--model", tiny(), "--seed", "1", "-o", dir.file("one.png")});
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(facemix::test::read_file(out + "/seed0001.png"), facemix::test::read_file(dir.file("one.png")));
}

TEST(CliGenerate, RawEqualsTheLibraryForwardAndThePng) {
  ScratchDir dir;
  auto r = run_facemix({"generate", "--model", tiny(), "--seed", "5", "--truncation", "0.7", "-o", dir.file("x.png"),
                        "--raw", dir.file("x.npy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out), (std::vector<std::string>{dir.file("x.png"), dir.file("x.npy")}));
  torch::Tensor raw = read_npy(dir.file("x.npy"));

  torch::InferenceMode im;
  Generator g = load_generator(tiny());
  at::Generator rng = at::detail::createCPUGenerator(5);
  torch::Tensor z = torch::randn({1, 64}, rng, torch::kFloat32);
  EXPECT_TRUE(torch::equal(z, z_from_seed(5, 64)));
  torch::Tensor img = g->synthesis(g->mapping(z, 0.7));
  EXPECT_LE(max_diff(raw, img), 1e-5);

  cv::Mat png = cv::imread(dir.file("x.png"), cv::IMREAD_COLOR);
  cv::Mat expected = generator_image_to_bgr(raw);
  EXPECT_EQ(cv::norm(png, expected, cv::NORM_INF), 0.0);
}

TEST(CliGenerate, LatentsReproduceTheGoldenImages) {
  ScratchDir dir;
  SafetensorsFile io = SafetensorsFile::open(facemix::test::golden_dir() + "/tiny_io.safetensors");
  write_latents_npz(dir.file("ws.npz"), io.tensor("ws_mixed"));
  auto r = run_facemix({"generate", "--model", tiny(), "--latents", dir.file("ws.npz"), "--out-dir", dir.file("out"),
                        "--raw", dir.file("raw.npy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(lines(r.out).size(), 5u);  // 4 images + raw
  EXPECT_LE(max_diff(read_npy(dir.file("raw.npy")), io.tensor("img_mixed")), 1e-4);
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/latent0003.png")));
}

TEST(CliGenerate, UsageErrors) {
  ScratchDir dir;
  auto r = run_facemix({"generate", "--model", tiny(), "--seeds", "0-1", "-o", dir.file("a.png")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_facemix({"generate", "--model", tiny(), "-o", dir.file("a.png")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_facemix({"generate", "--model", tiny(), "--seeds", "3-1", "--out-dir", dir.path()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_facemix({"generate", "--model", tiny(), "--seed", "1", "-o", dir.file("a.png"), "--noise-mode", "loud"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(dir.list().empty());
}

TEST(CliGenerate, ExistingOutputIsKeptWithoutYes) {
  ScratchDir dir;
  facemix::test::write_file(dir.file("a.png"), "precious");
  auto r = run_facemix({"generate", "--model", tiny(), "--seed", "1", "-o", dir.file("a.png")});
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_EQ(facemix::test::read_file(dir.file("a.png")), "precious");
  r = run_facemix({"-y", "generate", "--model", tiny(), "--seed", "1", "-o", dir.file("a.png")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(facemix::test::read_file(dir.file("a.png")), "precious");
}

TEST(CliGenerate, BadModelFilesExitFiveNamingTheFileWithNoOutput) {
  ScratchDir dir;
  const std::string good = facemix::test::read_file(tiny());
  facemix::test::write_file(dir.file("garbage.safetensors"), "this is not a model at all");
  facemix::test::write_file(dir.file("truncated.safetensors"), good.substr(0, good.size() / 2));
  std::string other = good;
  const size_t at = other.find("facemix-stylegan2");
  ASSERT_NE(at, std::string::npos);
  other.replace(at, 7, "facemiX");
  facemix::test::write_file(dir.file("format.safetensors"), other);

  for (const char* name : {"garbage.safetensors", "truncated.safetensors", "format.safetensors",
                           "missing.safetensors"}) {
    const std::string model = dir.file(name);
    auto r = run_facemix({"generate", "--model", model, "--seeds", "0-1", "--out-dir", dir.file("out"), "--raw",
                          dir.file("raw.npy")});
    EXPECT_EQ(r.exit_code, 5) << name << ": " << r.err;
    EXPECT_NE(r.err.find(model), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
    EXPECT_FALSE(std::filesystem::exists(dir.file("out")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("raw.npy")));
    auto i = run_facemix({"info", model});
    EXPECT_EQ(i.exit_code, 5) << name << ": " << i.err;
    EXPECT_NE(i.err.find(model), std::string::npos) << i.err;
    EXPECT_TRUE(i.out.empty());
  }
}

TEST(CliInfo, DescribesTheModel) {
  auto r = run_facemix({"info", tiny()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("resolution:     32"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("num_ws:         8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("parameters:     263987"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"channel_base\": 1024"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(sha256_file_hex(tiny())), std::string::npos) << r.out;

  auto j = run_facemix({"info", tiny(), "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto doc = nlohmann::json::parse(j.out);
  EXPECT_EQ(doc["resolution"], 32);
  EXPECT_EQ(doc["num_ws"], 8);
  EXPECT_EQ(doc["parameters"], 263987);
  EXPECT_EQ(doc["tensors"], 75);
  EXPECT_EQ(doc["file_size"], 1075084);
  EXPECT_EQ(doc["config"]["synthesis_kwargs"]["channel_max"], 64);
  EXPECT_EQ(doc["sha256"], sha256_file_hex(tiny()));
}
