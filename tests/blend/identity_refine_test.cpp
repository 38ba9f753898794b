// Identity refinement (identity_refine.h) on the golden generators: the
// targets are the identity descriptors of the model's own renders of two
// latents (each render resized to the chip), the start is their 50/50 mix.
// The loss falls, the largest distance falls (measured independently, on
// 8-bit renders resized to the chip), the result is deterministic, bad
// arguments are refused and a stop request ends it.
#include <cstdio>
#include <cstdlib>

#include <gtest/gtest.h>

#include "facemix/errors.h"
#include "facemix/gan_blend.h"
#include "facemix/identity.h"
#include "facemix/identity_refine.h"
#include "facemix/model_file.h"
#include "test_support.h"

namespace facemix::test {
namespace {

const IdentityModel& identity_model() {
  static const IdentityModel m = load_identity_model(find_identity_model(""));
  return m;
}

struct Case {
  Generator g{nullptr};
  torch::Tensor ws;       // [2, num_ws, w_dim]: the two inputs
  torch::Tensor mixed;    // [1, num_ws, w_dim]: their 50/50 mix
  std::vector<Descriptor> targets;
  ChipPlacement chip;     // the whole frame, resized to the chip
  torch::Tensor image;    // the mean of the two renders
};

Descriptor describe_render(const Generator& g, const torch::Tensor& w) {
  return describe_chips(identity_model(), {render_face(g, w, kIdentityChipSize)})[0];
}

Case make_case(const std::string& model_file) {
  Case c;
  c.g = load_generator(golden_dir() + "/" + model_file);
  const int R = c.g->config().img_resolution;
  torch::NoGradGuard no_grad;
  c.ws = torch::cat({c.g->mapping(z_from_seed(1, c.g->config().z_dim)), c.g->mapping(z_from_seed(2, c.g->config().z_dim))}, 0);
  c.mixed = mix_latents(c.ws, RowWeights(static_cast<std::size_t>(c.g->num_ws()), {0.5, 0.5}));
  for (int64_t i = 0; i < 2; ++i) c.targets.push_back(describe_render(c.g, c.ws.narrow(0, i, 1)));
  c.chip = whole_frame_chip(R);
  c.image = blend_image_target(c.g->synthesis(c.ws), {0.5, 0.5});
  return c;
}

double max_distance(const Descriptor& d, const std::vector<Descriptor>& targets) {
  return std::max(descriptor_distance(d, targets[0]), descriptor_distance(d, targets[1]));
}

class Refine : public ::testing::TestWithParam<const char*> {};

TEST_P(Refine, LossAndLargestDistanceFall) {
  const Case c = make_case(GetParam());
  IdentityRefineOptions o;
  o.steps = 20;
  const IdentityRefinement r = refine_identity(c.g, c.mixed, identity_model(), c.targets, c.chip, c.image, o);
  ASSERT_EQ(r.losses.size(), 21u);
  const double before = max_distance(describe_render(c.g, c.mixed), c.targets);
  const double after = max_distance(describe_render(c.g, r.w), c.targets);
  std::printf("%s: loss %.4f -> %.4f (best step %d); chip distances %.4f,%.4f -> %.4f,%.4f; "
              "largest distance on 8-bit renders %.4f -> %.4f; %.2f s\n",
              GetParam(), r.losses.front(), r.losses[static_cast<std::size_t>(r.best_step)], r.best_step,
              r.initial_distances[0], r.initial_distances[1], r.final_distances[0], r.final_distances[1], before,
              after, r.seconds);
  EXPECT_LT(r.losses.back(), r.losses.front());
  EXPECT_GT(r.best_step, 0);
  EXPECT_LT(std::max(r.final_distances[0], r.final_distances[1]),
            std::max(r.initial_distances[0], r.initial_distances[1]));
  EXPECT_LT(after, before);
  EXPECT_FALSE(torch::equal(r.w, c.mixed));
}

TEST_P(Refine, SameInputsSameBytes) {
  const Case c = make_case(GetParam());
  IdentityRefineOptions o;
  o.steps = 4;
  const IdentityRefinement a = refine_identity(c.g, c.mixed, identity_model(), c.targets, c.chip, c.image, o);
  const IdentityRefinement b = refine_identity(c.g, c.mixed, identity_model(), c.targets, c.chip, c.image, o);
  EXPECT_TRUE(torch::equal(a.w, b.w));
  EXPECT_EQ(a.losses, b.losses);
}

INSTANTIATE_TEST_SUITE_P(Golden, Refine, ::testing::Values("tiny.safetensors", "small.safetensors"));

TEST(RefineIdentity, ZeroStepsKeepsTheMixedLatent) {
  const Case c = make_case("tiny.safetensors");
  IdentityRefineOptions o;
  o.steps = 0;
  const IdentityRefinement r = refine_identity(c.g, c.mixed, identity_model(), c.targets, c.chip, c.image, o);
  EXPECT_TRUE(torch::equal(r.w, c.mixed));
  EXPECT_EQ(r.initial_distances, r.final_distances);
}

TEST(RefineIdentity, RefusesArgumentsThatDoNotFit) {
  const Case c = make_case("tiny.safetensors");
  IdentityRefineOptions bad;
  bad.learning_rate = 0;
  EXPECT_THROW(refine_identity(c.g, c.mixed, identity_model(), c.targets, c.chip, c.image, bad), UsageError);
  EXPECT_THROW(refine_identity(c.g, c.ws, identity_model(), c.targets, c.chip, c.image), UsageError);
  EXPECT_THROW(refine_identity(c.g, c.mixed, identity_model(), {}, c.chip, c.image), UsageError);
  EXPECT_THROW(refine_identity(c.g, c.mixed, identity_model(), c.targets, c.chip, c.image.narrow(2, 0, 5)), UsageError);
}

// In a child process: the stop request stays set for the rest of a process.
TEST(RefineIdentity, StopRequestEndsItWithInterrupted) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        const Case c = make_case("tiny.safetensors");
        IdentityRefineOptions o;
        o.steps = 50;
        int seen = 0;
        auto progress = [&](const ProgressEvent& e) {
          if (e.stage != "refine identity") std::exit(3);
          if (++seen == 2) request_interrupt();
        };
        try {
          refine_identity(c.g, c.mixed, identity_model(), c.targets, c.chip, c.image, o, progress);
        } catch (const Interrupted&) {
          std::exit(seen == 2 ? 130 : 4);
        }
        std::exit(0);
      },
      ::testing::ExitedWithCode(130), "");
}

}  // namespace
}  // namespace facemix::test
