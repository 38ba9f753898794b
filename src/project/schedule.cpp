// Latent spaces, projection schedules and the options' JSON record.
#include <algorithm>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "facemix/errors.h"
#include "facemix/projector.h"

namespace facemix {
namespace {

bool is_power_of_two(long v) { return v >= 1 && (v & (v - 1)) == 0; }

}  // namespace

LatentSpace parse_latent_space(const std::string& name) {
  if (name == "w") return LatentSpace::kW;
  if (name == "wplus" || name == "w+") return LatentSpace::kWPlus;
  throw UsageError("--space " + name + ": expected w or wplus");
}

std::string to_string(LatentSpace space) { return space == LatentSpace::kW ? "w" : "wplus"; }

ProjectionSchedule default_schedule(int img_resolution) {
  // Chosen by measurement (docs/blending.md, bench/bench_blend.cpp): a step
  // stopped at 32 px costs a small fraction of a full one, so most steps run
  // there; 64 px and up fix features. Small generators get NVIDIA-like step
  // counts (500), the FFHQ-1024 one as many as a two-face blend affords in
  // about a minute and a half of projection on a 2-core CPU.
  ProjectionSchedule stages;
  if (img_resolution <= 64)
    stages = {{32, 250}, {64, 250}};
  else if (img_resolution <= 256)
    stages = {{32, 150}, {64, 75}, {128, 25}};
  else
    stages = {{32, 150}, {64, 40}};
  ProjectionSchedule out;
  for (ProjectionStage s : stages) {
    s.resolution = std::min(s.resolution, img_resolution);
    if (!out.empty() && out.back().resolution == s.resolution)
      out.back().steps += s.steps;
    else
      out.push_back(s);
  }
  return out;
}

ProjectionSchedule parse_schedule(const std::string& text, int img_resolution) {
  auto fail = [&](const std::string& why) -> UsageError {
    return UsageError("--schedule " + text + ": " + why +
                      " (expected RES:STEPS,..., e.g. 32:200,64:100,full:20)");
  };
  ProjectionSchedule out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto colon = item.find(':');
    if (colon == std::string::npos) throw fail("'" + item + "' has no ':'");
    const std::string res = item.substr(0, colon), steps = item.substr(colon + 1);
    ProjectionStage s;
    try {
      size_t used = 0;
      if (res == "full") {
        s.resolution = img_resolution;
      } else {
        const long r = std::stol(res, &used);
        if (used != res.size() || !is_power_of_two(r) || r < 4) throw fail("'" + res + "' is not a power of two >= 4");
        s.resolution = static_cast<int>(std::min<long>(r, img_resolution));
      }
      const long n = std::stol(steps, &used);
      if (used != steps.size() || n < 1 || n > 1000000) throw fail("'" + steps + "' is not a step count >= 1");
      s.steps = static_cast<int>(n);
    } catch (const std::logic_error&) {
      throw fail("'" + item + "' is not RES:STEPS");
    }
    if (!out.empty() && s.resolution < out.back().resolution)
      throw fail("resolutions must not decrease");
    out.push_back(s);
  }
  if (out.empty()) throw fail("no stages");
  return out;
}

std::string to_string(const ProjectionSchedule& schedule) {
  std::string s;
  for (const auto& st : schedule) {
    if (!s.empty()) s += ",";
    s += std::to_string(st.resolution) + ":" + std::to_string(st.steps);
  }
  return s;
}

int total_steps(const ProjectionSchedule& schedule) {
  int n = 0;
  for (const auto& s : schedule) n += s.steps;
  return n;
}

std::string to_json(const ProjectorOptions& o, int img_resolution) {
  const ProjectionSchedule schedule = o.schedule.empty() ? default_schedule(img_resolution) : o.schedule;
  nlohmann::ordered_json j;
  j["space"] = to_string(o.space);
  j["schedule"] = to_string(schedule);
  j["loss"] = o.perceptual_model.empty() ? "pixel-pyramid" : "perceptual";
  if (o.perceptual_model.empty())
    j["pixel_loss_weight"] = o.pixel_loss_weight;
  else
    j["perceptual_model"] = o.perceptual_model;
  j["loss_resolution"] = o.loss_resolution;
  j["learning_rate"] = o.learning_rate;
  j["betas"] = {o.beta1, o.beta2};
  j["lr_rampup"] = o.lr_rampup;
  j["lr_rampdown"] = o.lr_rampdown;
  j["initial_noise_factor"] = o.initial_noise_factor;
  j["noise_ramp_length"] = o.noise_ramp_length;
  j["noise_regularize_weight"] = o.noise_regularize_weight;
  j["optimize_noise"] = o.optimize_noise;
  j["seed"] = o.seed;
  if (o.identity_weight > 0) {  // absent when off: sidecars stay as they were
    j["identity_weight"] = o.identity_weight;
    j["identity_min_resolution"] = o.identity_min_resolution;
  }
  return j.dump();
}

}  // namespace facemix
