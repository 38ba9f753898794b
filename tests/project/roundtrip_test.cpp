// Round trips in the generator's own domain: images the golden generators
// render from random latents (as 8-bit images) are projected back at the
// default schedule. The PSNR of the projection's reconstruction (its w and
// its noise maps, as NVIDIA's projector renders it) is required; the PSNR with
// the model's own noise (how the blend engine renders a latent) is reported.
//
// Note on the golden models: their weights are random, so their images are
// far more sensitive to the noise inputs than a trained generator's (swapping
// the noise alone drops the PSNR to 15-20 dB), and their latent landscape has
// many local minima; docs/blending.md discusses the numbers.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "facemix/model_file.h"
#include "facemix/projector.h"
#include "projection_fixture.h"

using namespace facemix;
using namespace facemix::test;

namespace {

struct RoundTrip {
  double start = 0, projected = 0, model_noise = 0, seconds = 0;
};

RoundTrip round_trip(const std::string& model, LatentSpace space, const std::vector<uint64_t>& seeds) {
  const Generator g = load_generator(golden_dir() + "/" + model);
  const torch::Tensor targets = rendered_targets(g, seeds);
  ProjectorOptions o;
  o.space = space;
  const auto t = std::chrono::steady_clock::now();
  const ProjectionResult r = project(g, targets, o);
  RoundTrip rt;
  rt.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  rt.start = mean(psnr(render(g, start_ws(g, targets.size(0))), targets));
  rt.projected = mean(psnr(render(g, r.ws, r.noise), targets));
  rt.model_noise = mean(psnr(render(g, r.ws), targets));
  std::printf("[ round trip ] %s %s (schedule %s): start %.2f dB, projected %.2f dB, with the model's noise %.2f dB, %.1f s\n",
              model.c_str(), to_string(space).c_str(), to_string(default_schedule(g->config().img_resolution)).c_str(),
              rt.start, rt.projected, rt.model_noise, rt.seconds);
  ::testing::Test::RecordProperty(model + "_" + to_string(space) + "_psnr", std::to_string(rt.projected));
  ::testing::Test::RecordProperty(model + "_" + to_string(space) + "_psnr_model_noise", std::to_string(rt.model_noise));
  return rt;
}

const std::vector<uint64_t> kSeeds{101, 102, 103, 104};

TEST(RoundTrip, TinyWPlusReaches30dB) {
  const RoundTrip rt = round_trip("tiny.safetensors", LatentSpace::kWPlus, kSeeds);
  EXPECT_GE(rt.projected, 30.0);  // measured 33.1 dB
}

TEST(RoundTrip, TinyW) {
  const RoundTrip rt = round_trip("tiny.safetensors", LatentSpace::kW, kSeeds);
  EXPECT_GE(rt.projected, 25.0);  // measured 29.6 dB
}

TEST(RoundTrip, SmallWPlus) {
  const RoundTrip rt = round_trip("small.safetensors", LatentSpace::kWPlus, {101, 102});
  EXPECT_GE(rt.projected, 25.0);  // measured 29.2 dB
}

TEST(RoundTrip, SmallW) {
  const RoundTrip rt = round_trip("small.safetensors", LatentSpace::kW, {101, 102});
  EXPECT_GE(rt.projected, 24.0);  // measured 28.4 dB
}

}  // namespace
