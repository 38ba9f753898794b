// Projection: schedules, options, determinism, progress/interrupt, and the
// perceptual-loss path. The round trips live in roundtrip_test.cpp.
#include <gtest/gtest.h>

#include <cstdlib>

#include "facemix/errors.h"
#include "facemix/model_file.h"
#include "facemix/projector.h"
#include "projection_fixture.h"
#include "test_support.h"

using namespace facemix;
using namespace facemix::test;

namespace {

TEST(Schedule, ParsesAndClamps) {
  const ProjectionSchedule s = parse_schedule("32:200,64:100,full:20", 1024);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].resolution, 32);
  EXPECT_EQ(s[0].steps, 200);
  EXPECT_EQ(s[2].resolution, 1024);
  EXPECT_EQ(total_steps(s), 320);
  EXPECT_EQ(to_string(s), "32:200,64:100,1024:20");
  // Above the model's resolution: clamped.
  EXPECT_EQ(to_string(parse_schedule("16:5,256:7", 64)), "16:5,64:7");
}

TEST(Schedule, RejectsBadText) {
  for (const char* bad : {"", "32", "32:", ":5", "33:10", "2:10", "32:0", "32:-1", "64:10,32:10", "x:1", "32:1x",
                          "full:1,16:1"}) {
    EXPECT_THROW(parse_schedule(bad, 256), UsageError) << bad;
  }
}

TEST(Schedule, DefaultFitsEveryResolution) {
  for (int r = 4; r <= 1024; r *= 2) {
    const ProjectionSchedule s = default_schedule(r);
    ASSERT_FALSE(s.empty());
    int prev = 0;
    for (const auto& st : s) {
      EXPECT_LE(st.resolution, r);
      EXPECT_GT(st.resolution, prev);
      EXPECT_GE(st.steps, 1);
      prev = st.resolution;
    }
  }
}

TEST(LatentSpaceNames, RoundTrip) {
  EXPECT_EQ(parse_latent_space("w"), LatentSpace::kW);
  EXPECT_EQ(parse_latent_space("wplus"), LatentSpace::kWPlus);
  EXPECT_EQ(parse_latent_space("w+"), LatentSpace::kWPlus);
  EXPECT_THROW(parse_latent_space("z"), UsageError);
  EXPECT_EQ(to_string(LatentSpace::kWPlus), "wplus");
}

TEST(WStatistics, CachedAndPlausible) {
  const Generator g = load_generator(golden_dir() + "/tiny.safetensors");
  const WStatistics a = w_statistics(g);
  const WStatistics b = w_statistics(g);
  EXPECT_GT(a.w_std, 0.0);
  EXPECT_EQ(a.w_std, b.w_std);
  EXPECT_TRUE(torch::equal(a.w_avg, g->w_avg()));
}

class ProjectTiny : public ::testing::Test {
 protected:
  void SetUp() override {
    g_ = load_generator(golden_dir() + "/tiny.safetensors");
    targets_ = rendered_targets(g_, {11, 12});
  }
  ProjectorOptions quick(uint64_t seed = 0) const {
    ProjectorOptions o;
    o.schedule = parse_schedule("8:4,32:6", 32);
    o.seed = seed;
    return o;
  }
  Generator g_{nullptr};
  torch::Tensor targets_;
};

TEST_F(ProjectTiny, SameSeedSameBytesOtherSeedOtherResult) {
  const ProjectionResult a = project(g_, targets_, quick(7));
  const ProjectionResult b = project(g_, targets_, quick(7));
  const ProjectionResult c = project(g_, targets_, quick(8));
  EXPECT_TRUE(torch::equal(a.ws, b.ws));
  for (size_t i = 0; i < a.noise.size(); ++i) EXPECT_TRUE(torch::equal(a.noise[i], b.noise[i]));
  EXPECT_FALSE(torch::equal(a.ws, c.ws));
}

TEST_F(ProjectTiny, AnImagesResultDoesNotDependOnItsBatch) {
  ProjectorOptions both = quick(3), alone = quick(3);
  both.image_seeds = {image_projection_seed(3, "first"), image_projection_seed(3, "second")};
  alone.image_seeds = {both.image_seeds[1]};
  const ProjectionResult pair = project(g_, targets_, both);
  const ProjectionResult single = project(g_, targets_.narrow(0, 1, 1), alone);
  EXPECT_TRUE(torch::equal(pair.ws.narrow(0, 1, 1), single.ws));
  EXPECT_FALSE(torch::equal(pair.ws.narrow(0, 0, 1), single.ws));
  alone.image_seeds = {1, 2};  // one seed per image, or none
  EXPECT_THROW(project(g_, targets_.narrow(0, 1, 1), alone), UsageError);
}

TEST_F(ProjectTiny, ResultShapesAndWRowsEqualInWSpace) {
  const ProjectionResult r = project(g_, targets_, quick());
  ASSERT_EQ(r.ws.sizes(), (std::vector<int64_t>{2, g_->num_ws(), g_->config().w_dim}));
  EXPECT_FALSE(r.ws.requires_grad());
  for (int i = 1; i < g_->num_ws(); ++i) EXPECT_TRUE(torch::equal(r.ws.select(1, i), r.ws.select(1, 0)));
  ASSERT_EQ(r.noise.size(), g_->noise_layers().size());
  for (size_t i = 0; i < r.noise.size(); ++i) {
    const int64_t res = g_->noise_layers()[i].resolution;
    EXPECT_EQ(r.noise[i].sizes(), (std::vector<int64_t>{2, 1, res, res}));
  }
  ASSERT_EQ(r.stages.size(), 2u);
  EXPECT_EQ(r.stages[0].stage.resolution, 8);
}

TEST_F(ProjectTiny, WPlusFillsRowsAboveTheLastStage) {
  ProjectorOptions o = quick();
  o.space = LatentSpace::kWPlus;
  o.schedule = parse_schedule("8:5", 32);  // rows 0-3 optimised, 4-7 never reached
  const ProjectionResult r = project(g_, targets_, o);
  for (int i = 4; i < g_->num_ws(); ++i) EXPECT_TRUE(torch::equal(r.ws.select(1, i), r.ws.select(1, 3))) << i;
  EXPECT_FALSE(torch::equal(r.ws.select(1, 3), r.ws.select(1, 0)));
}

TEST_F(ProjectTiny, ProgressReportsEveryStepOfEveryStage) {
  std::vector<ProgressEvent> events;
  project(g_, targets_, quick(), [&](const ProgressEvent& e) { events.push_back(e); });
  ASSERT_EQ(events.size(), 10u);
  EXPECT_EQ(events[0].stage, "project 8px");
  EXPECT_EQ(events[3].step, 4);
  EXPECT_EQ(events[3].total, 4);
  EXPECT_EQ(events[4].stage, "project 32px");
  EXPECT_EQ(events[9].step, 6);
  for (const auto& e : events) EXPECT_GE(e.loss, 0.0);
}

TEST_F(ProjectTiny, InterruptFromTheCallbackStopsTheProjection) {
  int calls = 0;
  EXPECT_THROW(project(g_, targets_, quick(),
                       [&](const ProgressEvent&) {
                         if (++calls == 3) throw Interrupted();
                       }),
               Interrupted);
  EXPECT_EQ(calls, 3);
}

TEST_F(ProjectTiny, WeightsStayFrozen) {
  std::vector<torch::Tensor> before;
  for (const auto& p : g_->parameters()) before.push_back(p.clone());
  project(g_, targets_, quick());
  size_t i = 0;
  for (const auto& p : g_->parameters()) {
    EXPECT_FALSE(p.requires_grad());
    EXPECT_FALSE(p.grad().defined());
    EXPECT_TRUE(torch::equal(p, before[i++]));
  }
}

TEST_F(ProjectTiny, BadInputsAreUsageErrors) {
  EXPECT_THROW(project(g_, torch::zeros({1, 3, 16, 16}), quick()), UsageError);
  EXPECT_THROW(project(g_, torch::zeros({1, 3, 32, 32}, torch::kDouble), quick()), UsageError);
  ProjectorOptions o = quick();
  o.schedule = {{64, 3}};  // above the model's 32 px
  EXPECT_THROW(project(g_, targets_, o), UsageError);
  o = quick();
  o.learning_rate = -1;
  EXPECT_THROW(project(g_, targets_, o), UsageError);
}

TEST_F(ProjectTiny, PerceptualModuleIsUsedAndImprovesTheFit) {
  ScratchDir dir;
  const std::string module = make_perceptual_module(dir);
  ProjectorOptions o = quick();
  o.schedule = parse_schedule("32:40", 32);
  o.perceptual_model = module;
  const ProjectionResult p = project(g_, targets_, o);
  o.perceptual_model.clear();
  const ProjectionResult pixel = project(g_, targets_, o);
  EXPECT_FALSE(torch::equal(p.ws, pixel.ws));  // the loss really changed

  // The perceptual projection fits better than the start (w_avg, its noise).
  const double start = mean(psnr(render(g_, start_ws(g_, 2)), targets_));
  const double fitted = mean(psnr(render(g_, p.ws, p.noise), targets_));
  RecordProperty("perceptual_start_psnr", std::to_string(start));
  RecordProperty("perceptual_fitted_psnr", std::to_string(fitted));
  EXPECT_GT(fitted, start + 3.0) << "start " << start << " dB, fitted " << fitted << " dB";
}

TEST_F(ProjectTiny, BadPerceptualModuleIsModelError) {
  ScratchDir dir;
  write_file(dir.file("junk.pt"), "this is not a TorchScript archive");
  ProjectorOptions o = quick();
  o.perceptual_model = dir.file("junk.pt");
  try {
    project(g_, targets_, o);
    FAIL() << "accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("junk.pt"), std::string::npos) << e.what();
  }
}

}  // namespace
