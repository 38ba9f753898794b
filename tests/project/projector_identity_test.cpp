// The projection's identity term (ProjectorOptions::identity_weight) on the
// 64 px golden generator: off (0) gives exactly today's result whatever else
// is set; on, the projection's descriptor comes closer to its target's; a
// weight without a model or targets is refused.
#include <gtest/gtest.h>

#include <cstdio>

#include "facemix/errors.h"
#include "facemix/identity.h"
#include "facemix/identity_chip.h"
#include "facemix/model_file.h"
#include "facemix/projector.h"
#include "projection_fixture.h"
#include "test_support.h"

using namespace facemix;
using namespace facemix::test;

namespace {

const IdentityModel& identity_model() {
  static const IdentityModel m = load_identity_model(find_identity_model(""));
  return m;
}

struct IdentityProjection {
  Generator g = load_generator(golden_dir() + "/small.safetensors");
  torch::Tensor targets = rendered_targets(g, {5});
  ChipPlacement chip = whole_frame_chip(64);
  Descriptor target_descriptor = describe(targets);
  ProjectorOptions options;

  IdentityProjection() {
    options.schedule = parse_schedule("16:10,64:30", 64);
    options.identity_model = &identity_model();
    options.identity_targets = {target_descriptor};
    options.identity_chips = {chip};
  }
  Descriptor describe(const torch::Tensor& images) const {
    torch::NoGradGuard no_grad;
    const torch::Tensor d = identity_model().net->forward(cut_chips(images, chip)).contiguous();
    Descriptor out;
    std::copy(d.data_ptr<float>(), d.data_ptr<float>() + kDescriptorSize, out.begin());
    return out;
  }
  double distance_of(const ProjectionResult& r) const {
    return descriptor_distance(describe(render(g, r.ws)), target_descriptor);
  }
};

TEST(ProjectorIdentity, WeightZeroIsTodaysProjection) {
  IdentityProjection s;
  ProjectorOptions plain;
  plain.schedule = s.options.schedule;
  s.options.identity_weight = 0.0;  // model, targets and chips set, but off
  const ProjectionResult a = project(s.g, s.targets, plain);
  const ProjectionResult b = project(s.g, s.targets, s.options);
  EXPECT_TRUE(torch::equal(a.ws, b.ws));
  EXPECT_EQ(to_json(plain, 64), to_json(s.options, 64));
}

TEST(ProjectorIdentity, TheTermBringsTheDescriptorCloser) {
  IdentityProjection s;
  const ProjectionResult plain = project(s.g, s.targets, s.options);
  s.options.identity_weight = 3e5;
  const ProjectionResult steered = project(s.g, s.targets, s.options);
  const double before = s.distance_of(plain), after = s.distance_of(steered);
  std::printf("projection identity distance to the target: weight 0 %.4f, weight 3e5 %.4f\n", before, after);
  EXPECT_LT(after, before - 0.02);  // measured: 0.352 -> 0.301
  EXPECT_NE(to_json(s.options, 64).find("\"identity_weight\":300000.0"), std::string::npos);
}

TEST(ProjectorIdentity, RefusesAWeightWithoutModelOrTargets) {
  IdentityProjection s;
  s.options.identity_weight = 1.0;
  ProjectorOptions no_model = s.options;
  no_model.identity_model = nullptr;
  EXPECT_THROW(project(s.g, s.targets, no_model), UsageError);
  ProjectorOptions no_targets = s.options;
  no_targets.identity_targets.clear();
  EXPECT_THROW(project(s.g, s.targets, no_targets), UsageError);
  s.options.identity_weight = -1.0;
  EXPECT_THROW(project(s.g, s.targets, s.options), UsageError);
}

}  // namespace
