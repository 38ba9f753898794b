// Saved latents: .npz + sidecar round trip and refusal of foreign latents.
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "facemix/errors.h"
#include "facemix/latent_store.h"
#include "facemix/latents.h"
#include "test_support.h"

using namespace facemix;
using facemix::test::ScratchDir;

namespace {

GeneratorConfig config(int resolution, int w_dim) {
  GeneratorConfig c;
  c.img_resolution = resolution;
  c.z_dim = c.w_dim = w_dim;
  return c;
}

LatentRecord record(const GeneratorConfig& c, const std::string& model_hash) {
  LatentRecord r;
  r.image = "a.jpg";
  r.image_sha256 = std::string(64, 'a');
  r.model = "m.safetensors";
  r.model_sha256 = model_hash;
  r.num_ws = c.num_ws();
  r.w_dim = c.w_dim;
  r.projection_json = R"({"space":"w","seed":3})";
  return r;
}

const std::string kHashA(64, '1'), kHashB(64, '2');

TEST(LatentStore, SaveAndLoadRoundTrip) {
  ScratchDir dir;
  const GeneratorConfig c = config(32, 64);
  const torch::Tensor w = torch::randn({1, c.num_ws(), c.w_dim});
  const std::string path = dir.file("a.npz");
  save_latent(path, w, record(c, kHashA));
  EXPECT_EQ(dir.list(), (std::vector<std::string>{"a.json", "a.npz"}));
  EXPECT_TRUE(torch::equal(load_latent_for_model(path, c, kHashA), w));
  EXPECT_TRUE(torch::equal(load_latent_for_model(path, c, ""), w));  // hash unknown: shape check only

  const auto j = nlohmann::json::parse(facemix::test::read_file(dir.file("a.json")));
  EXPECT_EQ(j["format"], "facemix-latent");
  EXPECT_EQ(j["model_sha256"], kHashA);
  EXPECT_EQ(j["num_ws"], c.num_ws());
  EXPECT_EQ(j["projection"]["seed"], 3);
  // NVIDIA's layout: key w, [1, num_ws, w_dim].
  const auto arrays = read_npz(path);
  ASSERT_EQ(arrays.count("w"), 1u);
  EXPECT_EQ(arrays.at("w").sizes(), w.sizes());
}

TEST(LatentStore, LatentOfAnotherModelHashIsRefused) {
  ScratchDir dir;
  const GeneratorConfig c = config(32, 64);
  const std::string path = dir.file("a.npz");
  save_latent(path, torch::randn({1, c.num_ws(), c.w_dim}), record(c, kHashA));
  try {
    load_latent_for_model(path, c, kHashB);
    FAIL() << "accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("another model"), std::string::npos);
  }
}

TEST(LatentStore, LatentOfAnotherShapeIsRefused) {
  ScratchDir dir;
  const GeneratorConfig tiny = config(32, 64), small = config(64, 128);
  const std::string path = dir.file("a.npz");
  write_latents_npz(path, torch::randn({1, tiny.num_ws(), tiny.w_dim}));  // no sidecar (e.g. NVIDIA's projector)
  EXPECT_NO_THROW(load_latent_for_model(path, tiny, kHashA));
  EXPECT_THROW(load_latent_for_model(path, small, kHashA), ModelError);
  EXPECT_THROW(load_latent_for_model(path, config(64, 64), ""), ModelError);  // num_ws differs
}

TEST(LatentStore, WLatentIsBroadcast) {
  ScratchDir dir;
  const GeneratorConfig c = config(32, 64);
  const torch::Tensor w = torch::randn({1, c.w_dim});
  write_latents_npz(dir.file("w.npz"), w);
  const torch::Tensor ws = load_latent_for_model(dir.file("w.npz"), c, "");
  ASSERT_EQ(ws.sizes(), (std::vector<int64_t>{1, c.num_ws(), c.w_dim}));
  for (int i = 0; i < c.num_ws(); ++i) EXPECT_TRUE(torch::equal(ws[0][i], w[0]));
}

TEST(LatentStore, BadFilesAreModelErrors) {
  ScratchDir dir;
  const GeneratorConfig c = config(32, 64);
  facemix::test::write_file(dir.file("junk.npz"), "not a zip archive at all");
  EXPECT_THROW(load_latent_for_model(dir.file("junk.npz"), c, ""), ModelError);
  EXPECT_THROW(load_latent_for_model(dir.file("missing.npz"), c, ""), ModelError);
  write_latents_npz(dir.file("two.npz"), torch::randn({2, c.num_ws(), c.w_dim}));
  EXPECT_THROW(load_latent_for_model(dir.file("two.npz"), c, ""), ModelError);
  torch::Tensor nan = torch::zeros({1, c.num_ws(), c.w_dim});
  nan[0][0][0] = std::numeric_limits<float>::quiet_NaN();
  write_latents_npz(dir.file("nan.npz"), nan);
  EXPECT_THROW(load_latent_for_model(dir.file("nan.npz"), c, ""), ModelError);
  // A sidecar that is not one of ours.
  write_latents_npz(dir.file("s.npz"), torch::zeros({1, c.num_ws(), c.w_dim}));
  facemix::test::write_file(dir.file("s.json"), "{broken");
  EXPECT_THROW(load_latent_for_model(dir.file("s.npz"), c, kHashA), ModelError);
  for (const char* side : {R"({"format": 7, "model_sha256": "x"})", R"(["facemix-latent"])",
                           R"({"format": "facemix-latent", "model_sha256": 1})"}) {
    facemix::test::write_file(dir.file("s.json"), side);
    EXPECT_THROW(load_latent_for_model(dir.file("s.npz"), c, kHashA), ModelError) << side;
  }
}

TEST(LatentStore, PathHelpers) {
  EXPECT_EQ(latent_sidecar_path("d/a.npz"), "d/a.json");
  EXPECT_TRUE(is_latent_path("x/A.NPZ"));
  EXPECT_TRUE(is_latent_path("b.npy"));
  EXPECT_FALSE(is_latent_path("c.png"));
}

}  // namespace
