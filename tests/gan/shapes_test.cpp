// Generators built from the FFHQ shape files (../shared/golden/ffhq*_shapes.json)
// have exactly NVIDIA's keys, shapes and parameter counts (built, not run).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "facemix/generator.h"
#include "test_support.h"

using namespace facemix;

namespace {

class FfhqShapes : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(FfhqShapes, KeysShapesAndCountsMatchNvidia) {
  std::ifstream f(facemix::test::golden_dir() + "/" + GetParam());
  ASSERT_TRUE(f) << GetParam();
  const nlohmann::json j = nlohmann::json::parse(f);
  const GeneratorConfig config = GeneratorConfig::from_json(j["config"].dump(), GetParam());
  Generator g(config);

  EXPECT_EQ(g->num_ws(), j["num_ws"].get<int>());
  EXPECT_EQ(g->parameter_count(), j["num_params"].get<int64_t>());

  std::map<std::string, std::vector<int64_t>> ours;
  std::vector<std::string> param_keys;
  for (const auto& p : g->named_parameters()) {
    ours[p.key()] = p.value().sizes().vec();
    param_keys.push_back(p.key());
  }
  int64_t buffer_elements = 0;
  for (const auto& b : g->named_buffers()) {
    ours[b.key()] = b.value().sizes().vec();
    buffer_elements += b.value().numel();
  }
  EXPECT_EQ(buffer_elements, j["num_buffer_elements"].get<int64_t>());
  EXPECT_EQ(ours.size(), j["num_state_dict_entries"].get<size_t>());

  std::map<std::string, std::vector<int64_t>> theirs;
  for (auto it = j["state_dict_shapes"].begin(); it != j["state_dict_shapes"].end(); ++it)
    theirs[it.key()] = it.value().get<std::vector<int64_t>>();
  EXPECT_EQ(ours, theirs);

  auto expected_params = j["parameter_keys"].get<std::vector<std::string>>();
  std::sort(expected_params.begin(), expected_params.end());
  std::sort(param_keys.begin(), param_keys.end());
  EXPECT_EQ(param_keys, expected_params);
  for (const auto& p : g->parameters()) EXPECT_FALSE(p.requires_grad());
}

INSTANTIATE_TEST_SUITE_P(Golden, FfhqShapes, ::testing::Values("ffhq256_shapes.json", "ffhq1024_shapes.json"),
                         [](const auto& p) { return p.param.substr(0, p.param.find('_')); });
