// Latent mixing: --mix parsing, per-row weights, exact and linear mixing.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "facemix/errors.h"
#include "facemix/latent_mix.h"

using namespace facemix;

namespace {

torch::Tensor random_ws(int64_t k, int64_t num_ws, int64_t w_dim, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  return torch::randn({k, num_ws, w_dim}, gen, torch::kFloat32);
}

TEST(ParseLayerMix, NamedRanges) {
  LayerMix c = parse_layer_mix("coarse=@1", 2);
  EXPECT_EQ(c.first_row, 0);
  EXPECT_EQ(c.last_row, 3);
  EXPECT_EQ(c.weights, (std::vector<double>{1.0, 0.0}));
  LayerMix m = parse_layer_mix("middle=@2", 2);
  EXPECT_EQ(m.first_row, 4);
  EXPECT_EQ(m.last_row, 7);
  EXPECT_EQ(m.weights, (std::vector<double>{0.0, 1.0}));
  LayerMix f = parse_layer_mix("fine=1,3", 2);
  EXPECT_EQ(f.first_row, 8);
  EXPECT_EQ(f.last_row, -1);
  EXPECT_DOUBLE_EQ(f.weights[0], 0.25);
  EXPECT_DOUBLE_EQ(f.weights[1], 0.75);
}

TEST(ParseLayerMix, NumericRanges) {
  LayerMix one = parse_layer_mix("5=@3", 3);
  EXPECT_EQ(one.first_row, 5);
  EXPECT_EQ(one.last_row, 5);
  LayerMix range = parse_layer_mix("2-6=0.5,0.5", 2);
  EXPECT_EQ(range.first_row, 2);
  EXPECT_EQ(range.last_row, 6);
  LayerMix open = parse_layer_mix("9-=@1", 2);
  EXPECT_EQ(open.first_row, 9);
  EXPECT_EQ(open.last_row, -1);
}

TEST(ParseLayerMix, RejectsBadSpecs) {
  for (const char* bad : {"coarse", "coarse=", "eyes=@1", "7-3=@1", "-3=@1", "a-b=@1", "coarse=@0", "coarse=@3",
                          "coarse=@x", "coarse=1", "coarse=1,2,3", "coarse=1,x", "coarse=0,0", "1-2-3=@1"}) {
    try {
      parse_layer_mix(bad, 2);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find("--mix"), std::string::npos) << e.what();
    }
  }
}

TEST(RowWeights, LaterMixesWinAndRangesClip) {
  const std::vector<double> base{0.5, 0.5};
  const RowWeights rows =
      row_weights(10, base, {parse_layer_mix("coarse=@1", 2), parse_layer_mix("3-5=@2", 2),
                             parse_layer_mix("fine=0.2,0.8", 2)});
  ASSERT_EQ(rows.size(), 10u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rows[i], (std::vector<double>{1, 0})) << i;
  for (int i = 3; i <= 5; ++i) EXPECT_EQ(rows[i], (std::vector<double>{0, 1})) << i;
  for (int i = 6; i <= 7; ++i) EXPECT_EQ(rows[i], base) << i;
  for (int i = 8; i <= 9; ++i) EXPECT_DOUBLE_EQ(rows[i][1], 0.8) << i;
}

TEST(RowWeights, RangeBeyondTheModelIsRefused) {
  EXPECT_THROW(row_weights(8, {0.5, 0.5}, {parse_layer_mix("fine=@1", 2)}), UsageError);
  EXPECT_THROW(row_weights(8, {0.5, 0.5}, {parse_layer_mix("8-9=@1", 2)}), UsageError);
  EXPECT_NO_THROW(row_weights(8, {0.5, 0.5}, {parse_layer_mix("6-20=@1", 2)}));
}

TEST(MixLatents, OneHotGivesThatInputExactly) {
  const torch::Tensor ws = random_ws(2, 8, 16, 1);
  const torch::Tensor a = mix_latents(ws, row_weights(8, {1.0, 0.0}, {}));
  EXPECT_TRUE(torch::equal(a, ws.narrow(0, 0, 1)));
  const torch::Tensor b = mix_latents(ws, row_weights(8, {0.0, 1.0}, {}));
  EXPECT_TRUE(torch::equal(b, ws.narrow(0, 1, 1)));
}

TEST(MixLatents, LinearInTheWeights) {
  const torch::Tensor ws = random_ws(3, 10, 32, 2);
  const std::vector<double> w1{0.2, 0.3, 0.5}, w2{0.6, 0.1, 0.3};
  const torch::Tensor m1 = mix_latents(ws, row_weights(10, w1, {}));
  const torch::Tensor m2 = mix_latents(ws, row_weights(10, w2, {}));
  // Halfway between the weight vectors is halfway between the latents.
  const std::vector<double> mid{0.4, 0.2, 0.4};
  const torch::Tensor mm = mix_latents(ws, row_weights(10, mid, {}));
  EXPECT_TRUE(torch::allclose(mm, (m1 + m2) * 0.5, 0, 1e-6));
  // And each mix is the weighted sum of the inputs.
  const torch::Tensor expected = ws[0] * 0.2 + ws[1] * 0.3 + ws[2] * 0.5;
  EXPECT_TRUE(torch::allclose(m1[0], expected, 0, 1e-6));
  // Moving the weights moves the latent along ws[k] - ws[j].
  const std::vector<double> moved{0.3, 0.2, 0.5};
  const torch::Tensor mv = mix_latents(ws, row_weights(10, moved, {}));
  EXPECT_TRUE(torch::allclose(mv - m1, ((ws[0] - ws[1]) * 0.1).unsqueeze(0), 0, 1e-6));
}

TEST(MixLatents, PerRowRangesTakeTheRightRows) {
  const torch::Tensor ws = random_ws(2, 10, 8, 3);
  const RowWeights rows = row_weights(10, {0.5, 0.5}, {parse_layer_mix("coarse=@1", 2), parse_layer_mix("fine=@2", 2)});
  const torch::Tensor m = mix_latents(ws, rows)[0];
  for (int i = 0; i <= 3; ++i) EXPECT_TRUE(torch::equal(m[i], ws[0][i])) << i;
  for (int i = 4; i <= 7; ++i) EXPECT_TRUE(torch::allclose(m[i], (ws[0][i] + ws[1][i]) * 0.5, 0, 1e-6)) << i;
  for (int i = 8; i <= 9; ++i) EXPECT_TRUE(torch::equal(m[i], ws[1][i])) << i;
}

TEST(MixLatents, ShapeMismatchIsUsageError) {
  const torch::Tensor ws = random_ws(2, 8, 4, 4);
  EXPECT_THROW(mix_latents(ws, row_weights(10, {0.5, 0.5}, {})), UsageError);
  EXPECT_THROW(mix_latents(ws, row_weights(8, {0.2, 0.3, 0.5}, {})), UsageError);
}

}  // namespace
