// The identity network against the reference descriptors, and every model
// reader: face-api's manifest (as shipped and from ../shared), the
// facemix-identity safetensors form, and damaged files of each.
#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "facemix/errors.h"
#include "facemix/identity.h"
#include "facemix/safetensors.h"
#include "identity_fixture.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace facemix::test {
namespace {

std::vector<cv::Mat> chips_of(const std::vector<GoldenChip>& golden) {
  std::vector<cv::Mat> chips;
  for (const auto& g : golden) chips.push_back(g.chip);
  return chips;
}

TEST(IdentityParity, ShippedModelMatchesReferenceDescriptors) {
  const auto golden = golden_chips();
  ASSERT_GE(golden.size(), 12u);
  const auto ours = describe_chips(shipped_model(), chips_of(golden));
  double worst = 0.0, worst_distance = 0.0;
  for (std::size_t i = 0; i < golden.size(); ++i) {
    const double d = max_abs_diff(ours[i], golden[i].descriptor);
    worst = std::max(worst, d);
    EXPECT_LT(d, 1e-4) << golden[i].name;
    for (std::size_t k = 0; k < i; ++k) {
      const double dd = std::abs(descriptor_distance(ours[i], ours[k]) -
                                 descriptor_distance(golden[i].descriptor, golden[k].descriptor));
      worst_distance = std::max(worst_distance, dd);
      EXPECT_LT(dd, 1e-4) << golden[i].name << " vs " << golden[k].name;
    }
  }
  std::printf("identity parity: max |diff| per component %.3g, on pair distances %.3g (%zu chips)\n", worst,
              worst_distance, golden.size());
}

TEST(IdentityParity, SharedWeightsLoadLikeTheShippedCopy) {
  const IdentityModel shared =
      load_identity_model(golden_identity_dir() + "/weights/face_recognition_model-weights_manifest.json");
  const auto a = shared.net->named_parameters();
  const auto b = shipped_model().net->named_parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].value(), b[i].value())) << a[i].key();
}

TEST(IdentityParity, BatchAndSingleAgree) {
  const auto golden = golden_chips();
  const auto batch = describe_chips(shipped_model(), chips_of(golden));
  for (std::size_t i = 0; i < golden.size(); i += 5)
    EXPECT_LT(max_abs_diff(describe_chips(shipped_model(), {golden[i].chip})[0], batch[i]), 1e-5);
}

TEST(IdentityNet, IsDifferentiableWithRespectToTheChip) {
  const auto golden = golden_chips();
  torch::Tensor x = chips_to_tensor({golden[0].chip}).requires_grad_(true);
  const torch::Tensor d = shipped_model().net->forward(x);
  d.pow(2).sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0);
}

TEST(IdentityKeys, FaceApiNamesMapToModuleKeys) {
  EXPECT_EQ(identity_key_for_faceapi("conv32_down/conv/filters"), "conv32_down.conv.weight");
  EXPECT_EQ(identity_key_for_faceapi("conv64_down/conv1/scale/biases"), "conv64_down.conv1.scale.bias");
  EXPECT_EQ(identity_key_for_faceapi("conv256_2/conv2/conv/bias"), "conv256_2.conv2.conv.bias");
  EXPECT_EQ(identity_key_for_faceapi("fc"), "fc.weight");
  EXPECT_THROW(identity_key_for_faceapi("conv32_1/conv1/unknown"), ModelError);
  // Every key the network has is reachable from a face-api name, and only those.
  std::size_t n = 0;
  for (const auto& p : shipped_model().net->named_parameters()) n += p.key().empty() ? 0 : 1;
  EXPECT_EQ(n, 117u);
}

// ---- facemix-identity safetensors ------------------------------------------------

std::map<std::string, std::string> identity_metadata() {
  return {{"format", kIdentityModelFormat}, {"version", kIdentityModelFormatVersion},
          {"input_mean_rgb", "122.782,117.001,104.298"}, {"input_scale", "255"}};
}

std::vector<std::pair<std::string, at::Tensor>> shipped_tensors() {
  std::vector<std::pair<std::string, at::Tensor>> t;
  for (const auto& p : shipped_model().net->named_parameters()) t.emplace_back(p.key(), p.value().detach());
  return t;
}

TEST(IdentitySafetensors, RoundTripGivesIdenticalDescriptors) {
  ScratchDir dir;
  const std::string path = dir.file("identity.safetensors");
  write_safetensors(path, shipped_tensors(), identity_metadata());
  const IdentityModel back = load_identity_model(path);
  EXPECT_EQ(back.source_format, kIdentityModelFormat);
  const auto golden = golden_chips();
  const auto a = describe_chips(shipped_model(), chips_of(golden));
  const auto b = describe_chips(back, chips_of(golden));
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << golden[i].name;
}

void expect_model_error(const std::string& path, const std::string& needle) {
  try {
    load_identity_model(path);
    ADD_FAILURE() << path << ": loaded, expected a ModelError mentioning '" << needle << "'";
  } catch (const ModelError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
  }
}

TEST(IdentitySafetensors, DamagedFilesAreRefused) {
  ScratchDir dir;
  auto tensors = shipped_tensors();
  auto meta = identity_metadata();

  auto missing = tensors;
  missing.pop_back();
  write_safetensors(dir.file("missing.safetensors"), missing, meta);
  expect_model_error(dir.file("missing.safetensors"), "lacks tensor fc.weight");

  auto misshaped = tensors;
  misshaped.back().second = misshaped.back().second.t().contiguous();
  write_safetensors(dir.file("shape.safetensors"), misshaped, meta);
  expect_model_error(dir.file("shape.safetensors"), "fc.weight has shape");

  auto extra = tensors;
  extra.emplace_back("fc.bias", torch::zeros({128}));
  write_safetensors(dir.file("extra.safetensors"), extra, meta);
  expect_model_error(dir.file("extra.safetensors"), "unexpected tensor fc.bias");

  auto nan = tensors;
  nan[0].second = nan[0].second.clone();
  nan[0].second.view(-1)[3] = std::nanf("");
  write_safetensors(dir.file("nan.safetensors"), nan, meta);
  expect_model_error(dir.file("nan.safetensors"), "non-finite");

  auto newer = meta;
  newer["version"] = "2";
  write_safetensors(dir.file("newer.safetensors"), tensors, newer);
  expect_model_error(dir.file("newer.safetensors"), "version 2");

  auto generator = meta;
  generator["format"] = "facemix-stylegan2";
  write_safetensors(dir.file("other.safetensors"), tensors, generator);
  expect_model_error(dir.file("other.safetensors"), "not a facemix identity model");

  const std::string good = dir.file("good.safetensors");
  write_safetensors(good, tensors, meta);
  const std::string bytes = read_file(good);
  write_file(dir.file("truncated.safetensors"), bytes.substr(0, bytes.size() / 2));
  expect_model_error(dir.file("truncated.safetensors"), "truncated.safetensors");

  expect_model_error(dir.file("absent.safetensors"), "no such identity model file");
}

// ---- face-api manifest -------------------------------------------------------------

// A copy of the shipped manifest and shard in `dir`, with the shard's bytes and
// the manifest's text passed through the given edits.
std::string manifest_copy(const ScratchDir& dir, const std::string& name, const std::string& shard_bytes,
                          const std::string& manifest_text) {
  fs::create_directories(dir.file(name));
  write_file(dir.file(name + "/face_recognition_model.bin"), shard_bytes);
  write_file(dir.file(name + "/manifest.json"), manifest_text);
  return dir.file(name + "/manifest.json");
}

TEST(IdentityManifest, DamagedFilesAreRefused) {
  ScratchDir dir;
  const std::string models = source_dir() + "/models/";
  const std::string shard = read_file(models + "face_recognition_model.bin");
  const std::string manifest = read_file(models + "face_recognition_model-weights_manifest.json");

  const std::string good = manifest_copy(dir, "good", shard, manifest);
  EXPECT_NO_THROW(load_identity_model(good));

  expect_model_error(manifest_copy(dir, "short", shard.substr(0, shard.size() - 1000), manifest), "too short for fc");
  expect_model_error(manifest_copy(dir, "long", shard + std::string(16, '\0'), manifest),
                     "16 bytes the manifest does not describe");

  std::string reshaped = manifest;
  const std::string fc_entry = "{\"name\":\"fc\",\"shape\":[256,128]";
  auto pos = reshaped.find(fc_entry);
  ASSERT_NE(pos, std::string::npos);
  reshaped.replace(pos, fc_entry.size(), "{\"name\":\"fc\",\"shape\":[128,256]");
  expect_model_error(manifest_copy(dir, "reshaped", shard, reshaped), "fc.weight has shape");

  std::string renamed = manifest;
  pos = renamed.find("conv32_1/conv1/conv/filters");
  ASSERT_NE(pos, std::string::npos);
  renamed.replace(pos, 27, "conv32_9/conv1/conv/filters");
  expect_model_error(manifest_copy(dir, "renamed", shard, renamed), "lacks tensor conv32_1.conv1.conv.weight");

  expect_model_error(manifest_copy(dir, "json", shard, "[{\"paths\": [\"face_recognition_model.bin\"], "), "not a tfjs");

  fs::remove(dir.file("good/face_recognition_model.bin"));
  expect_model_error(good, "face_recognition_model.bin");
}

TEST(IdentityDiscovery, FindsTheShippedModelAndHonoursOverrides) {
  EXPECT_EQ(find_identity_model("/some/where.safetensors"), "/some/where.safetensors");
  ::setenv("FACEMIX_IDENTITY_MODEL", "/from/env.dat", 1);
  EXPECT_EQ(find_identity_model(""), "/from/env.dat");
  ::unsetenv("FACEMIX_IDENTITY_MODEL");
  EXPECT_EQ(fs::path(find_identity_model("")).filename(), "face_recognition_model-weights_manifest.json");
}

}  // namespace
}  // namespace facemix::test
