// Generator config, model files (load, refusals) and model discovery, on small
// random generators made in-process.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <filesystem>

#include "facemix/errors.h"
#include "facemix/model_file.h"
#include "facemix/safetensors.h"
#include "test_support.h"

using namespace facemix;
using facemix::test::ScratchDir;

namespace {

GeneratorConfig small_config() {
  GeneratorConfig c;
  c.z_dim = c.w_dim = 16;
  c.img_resolution = 8;
  c.mapping_layers = 2;
  c.channel_base = 64;
  c.channel_max = 16;
  return c;
}

std::string write_random_model(const ScratchDir& dir, const std::string& name = "m.safetensors") {
  Generator g(small_config());
  g->initialize_random(7);
  const std::string path = dir.file(name);
  write_model_file(path, *g);
  return path;
}

using State = std::vector<std::pair<std::string, torch::Tensor>>;

State read_state(const std::string& path) {
  SafetensorsFile f = SafetensorsFile::open(path);
  State s;
  for (const auto& r : f.records()) s.emplace_back(r.name, f.tensor(r).clone());
  return s;
}

std::map<std::string, std::string> good_metadata() {
  return {{"format", "facemix-stylegan2"}, {"version", "1"}, {"config", small_config().to_json()}};
}

void expect_load_refused(const std::string& path, const std::string& expect) {
  try {
    load_generator(path);
    ADD_FAILURE() << "accepted a bad model; expected: " << expect;
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(expect), std::string::npos) << "message: " << msg << "\nexpected: " << expect;
  }
}

}  // namespace

TEST(GeneratorConfig, JsonRoundTripAndDerivedSizes) {
  GeneratorConfig c = GeneratorConfig::from_json(
      R"({"z_dim": 64, "w_dim": 64, "c_dim": 0, "img_resolution": 32, "img_channels": 3,
          "mapping_kwargs": {"num_layers": 2}, "synthesis_kwargs": {"channel_base": 1024,
          "channel_max": 64, "num_fp16_res": 0, "conv_clamp": null, "architecture": "skip"}})",
      "t");
  EXPECT_EQ(c.num_ws(), 8);
  EXPECT_EQ(c.channels_at(4), 64);
  EXPECT_EQ(c.channels_at(32), 32);
  EXPECT_FALSE(c.conv_clamp.has_value());
  GeneratorConfig d = GeneratorConfig::from_json(c.to_json(), "t");
  EXPECT_EQ(d.to_json(), c.to_json());
  EXPECT_EQ(ffhq_config(1024).num_ws(), 18);
  EXPECT_EQ(ffhq_config(256).num_ws(), 14);
  GeneratorConfig r4 = small_config();
  r4.img_resolution = 4;
  EXPECT_EQ(r4.num_ws(), 2);
}

TEST(GeneratorConfig, RefusesWhatFacemixDoesNotImplement) {
  const char* bad[] = {
      R"({"z_dim": 8, "w_dim": 8, "img_resolution": 8, "c_dim": 10})",
      R"({"z_dim": 8, "w_dim": 8, "img_resolution": 12})",
      R"({"z_dim": 8, "w_dim": 8, "img_resolution": 2048})",
      R"({"z_dim": 8, "w_dim": 8, "img_resolution": 8, "synthesis_kwargs": {"architecture": "resnet"}})",
      R"({"z_dim": 8, "w_dim": 8, "img_resolution": 8, "synthesis_kwargs": {"resample_filter": [1, 1]}})",
      R"({"z_dim": 8, "w_dim": 8, "img_resolution": 8, "new_feature": 1})",
      R"({"w_dim": 8, "img_resolution": 8})",
      R"({"z_dim": "8", "w_dim": 8, "img_resolution": 8})",
      R"(not json)",
  };
  for (const char* j : bad) EXPECT_THROW(GeneratorConfig::from_json(j, "cfg"), ModelError) << j;
}

TEST(ModelFile, RoundTripLoadsEveryTensor) {
  ScratchDir dir;
  Generator g(small_config());
  g->initialize_random(3);
  write_model_file(dir.file("m.safetensors"), *g);
  Generator h = load_generator(dir.file("m.safetensors"));
  auto a = g->named_parameters(), b = h->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (const auto& p : a) {
    EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
    EXPECT_FALSE(b[p.key()].requires_grad()) << p.key();
  }
  for (const auto& p : g->named_buffers()) EXPECT_TRUE(torch::equal(p.value(), h->named_buffers()[p.key()]));
  torch::NoGradGuard ng;
  torch::Tensor z = torch::randn({2, 16});
  EXPECT_TRUE(torch::allclose(g->forward(z), h->forward(z)));
}

TEST(ModelFile, HalfPrecisionFilesLoadAsFloat32) {
  ScratchDir dir;
  const std::string good = write_random_model(dir);
  State s = read_state(good);
  for (auto& [k, t] : s) t = t.to(k.find("weight") != std::string::npos ? torch::kFloat16 : torch::kBFloat16);
  write_safetensors(dir.file("half.safetensors"), s, good_metadata());
  Generator h = load_generator(dir.file("half.safetensors"));
  auto params = h->named_parameters();
  for (const auto& [k, t] : s) {
    const torch::Tensor loaded = params.contains(k) ? params[k] : h->named_buffers()[k];  // a copy: the buffers dict is a temporary
    EXPECT_EQ(loaded.scalar_type(), torch::kFloat32);
    EXPECT_TRUE(torch::equal(loaded, t.to(torch::kFloat32))) << k;
  }
}

TEST(ModelFileRefusal, NoMetadata) {
  ScratchDir dir;
  write_safetensors(dir.file("x.safetensors"), read_state(write_random_model(dir)), {});
  expect_load_refused(dir.file("x.safetensors"), "not a facemix model");
}

TEST(ModelFileRefusal, WrongFormat) {
  ScratchDir dir;
  auto md = good_metadata();
  md["format"] = "something-else";
  write_safetensors(dir.file("x.safetensors"), read_state(write_random_model(dir)), md);
  expect_load_refused(dir.file("x.safetensors"), "something-else");
}

TEST(ModelFileRefusal, NewerVersion) {
  ScratchDir dir;
  auto md = good_metadata();
  md["version"] = "2";
  write_safetensors(dir.file("x.safetensors"), read_state(write_random_model(dir)), md);
  expect_load_refused(dir.file("x.safetensors"), "newer");
}

TEST(ModelFileRefusal, MissingConfig) {
  ScratchDir dir;
  auto md = good_metadata();
  md.erase("config");
  write_safetensors(dir.file("x.safetensors"), read_state(write_random_model(dir)), md);
  expect_load_refused(dir.file("x.safetensors"), "no \"config\"");
}

TEST(ModelFileRefusal, UnsupportedConfig) {
  ScratchDir dir;
  auto md = good_metadata();
  md["config"] = R"({"z_dim": 16, "w_dim": 16, "img_resolution": 8, "c_dim": 3})";
  write_safetensors(dir.file("x.safetensors"), read_state(write_random_model(dir)), md);
  expect_load_refused(dir.file("x.safetensors"), "c_dim");
}

TEST(ModelFileRefusal, MissingTensor) {
  ScratchDir dir;
  State s = read_state(write_random_model(dir));
  s.erase(std::remove_if(s.begin(), s.end(), [](const auto& p) { return p.first == "synthesis.b8.conv1.bias"; }),
          s.end());
  write_safetensors(dir.file("x.safetensors"), s, good_metadata());
  expect_load_refused(dir.file("x.safetensors"), "missing tensor 'synthesis.b8.conv1.bias'");
}

TEST(ModelFileRefusal, ShapeDisagreesWithConfig) {
  ScratchDir dir;
  State s = read_state(write_random_model(dir));
  for (auto& [k, t] : s)
    if (k == "mapping.fc0.weight") t = torch::zeros({16, 17});
  write_safetensors(dir.file("x.safetensors"), s, good_metadata());
  expect_load_refused(dir.file("x.safetensors"), "'mapping.fc0.weight' has shape [16, 17], the config needs [16, 16]");
}

TEST(ModelFileRefusal, UnexpectedTensor) {
  ScratchDir dir;
  State s = read_state(write_random_model(dir));
  s.emplace_back("synthesis.b16.conv1.weight", torch::zeros({1}));
  write_safetensors(dir.file("x.safetensors"), s, good_metadata());
  expect_load_refused(dir.file("x.safetensors"), "unexpected tensor 'synthesis.b16.conv1.weight'");
}

TEST(ModelFileRefusal, NonStandardResampleFilter) {
  ScratchDir dir;
  State s = read_state(write_random_model(dir));
  for (auto& [k, t] : s)
    if (k == "synthesis.b8.resample_filter") t = torch::full({4, 4}, 1.0f / 16);
  write_safetensors(dir.file("x.safetensors"), s, good_metadata());
  expect_load_refused(dir.file("x.safetensors"), "resample filter");
}

TEST(ModelFileRefusal, NotASafetensorsFile) {
  ScratchDir dir;
  facemix::test::write_file(dir.file("x.safetensors"), std::string(64, 'z'));
  expect_load_refused(dir.file("x.safetensors"), "header");
}

TEST(ModelInfo, SummarisesTheFile) {
  ScratchDir dir;
  const std::string path = write_random_model(dir);
  ModelInfo info = inspect_model(path);
  Generator g(small_config());
  EXPECT_EQ(info.parameter_count, g->parameter_count());
  EXPECT_EQ(info.num_ws, 4);
  EXPECT_EQ(info.file_size, std::filesystem::file_size(path));
  EXPECT_EQ(info.dtypes, std::vector<std::string>{"F32"});
  EXPECT_EQ(info.sha256.size(), 64u);
  EXPECT_EQ(info.tensor_count, g->named_parameters().size() + g->named_buffers().size());
}

TEST(ModelDiscovery, FirstFacemixModelInDirectoryOrder) {
  ScratchDir a, b;
  facemix::test::write_file(a.file("0-garbage.safetensors"), "not a model");
  write_safetensors(a.file("1-other.safetensors"), {{"x", torch::ones({1})}}, {{"format", "other"}});
  facemix::test::write_file(a.file("readme.txt"), "x");
  EXPECT_EQ(find_model_in({a.path()}), "");
  write_random_model(b, "z.safetensors");
  write_random_model(b, "y.safetensors");
  EXPECT_EQ(find_model_in({a.file("missing-dir"), a.path(), b.path()}), b.file("y.safetensors"));
}

TEST(ModelDiscovery, ExplicitThenEnvironment) {
  ::setenv("FACEMIX_MODEL", "/env/model.safetensors", 1);
  EXPECT_EQ(find_model("/given.safetensors"), "/given.safetensors");
  EXPECT_EQ(find_model(), "/env/model.safetensors");
  ::unsetenv("FACEMIX_MODEL");
  if (!find_model_in(default_model_dirs()).empty()) GTEST_SKIP() << "a model is installed in a default directory";
  try {
    find_model();
    ADD_FAILURE() << "no model should be found";
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("FACEMIX_MODEL"), std::string::npos);
    EXPECT_NE(msg.find("models/README.md"), std::string::npos);
    for (const auto& d : default_model_dirs()) EXPECT_NE(msg.find(d), std::string::npos) << d;
  }
}
