// Projection options shared by `facemix project` and the GAN engine of the
// main blend form: one registration, one conversion to ProjectorOptions.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "facemix/projector.h"

namespace facemix::cli {

struct ProjectionArgs {
  std::string space = "w";
  std::string schedule;  // "" = the model's default
  std::string perceptual;
  std::uint64_t seed = 0;
  ProjectorOptions numbers;  // the NVIDIA numbers, filled by the options directly
  bool fixed_noise = false;
};

// Adds --space, --schedule, --perceptual to group `group` and the optimiser
// numbers (--lr, --betas, --lr-rampup, --lr-rampdown, --w-noise, --w-noise-ramp,
// --noise-reg, --pixel-weight, --fixed-noise) to `advanced_group`. --seed is left to the
// caller (the blend form already has one).
void add_projection_options(CLI::App& app, ProjectionArgs& a, const std::string& group,
                            const std::string& advanced_group);

// requires: img_resolution is the loaded model's.
// throws:   UsageError for a bad --space or --schedule;
//           ModelError when --perceptual names no file.
ProjectorOptions to_projector_options(const ProjectionArgs& a, int img_resolution);

// The same without the schedule (left empty), for callers that learn the
// model's resolution later (the blend pipeline: GanBlendSettings::schedule).
ProjectorOptions to_projector_options_unscheduled(const ProjectionArgs& a);

}  // namespace facemix::cli
