// The GAN engine's options of the main blend form, and their conversion to
// the pipeline's settings (facemix/pipeline.h).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "commands.h"
#include "facemix/pipeline.h"
#include "projection_options.h"

namespace facemix::cli {

struct GanBlendArgs {
  ProjectionArgs projection;      // --space, --schedule, --perceptual, optimiser numbers
  std::vector<std::string> mix;   // --mix RANGE=WEIGHTS, repeatable
  double truncation = 1.0;
  std::string save_latents;       // DIR, or ""
  std::string latents;            // --latents A.npz,B.npz (appended to the inputs)
  std::string device = "cpu";
  double identity_weight = 0.0;   // --identity-weight (projection's identity term)
};

// Adds the GAN engine's options (groups "GAN engine", "Projection",
// "Optimiser (NVIDIA's defaults)") to the main form.
void add_gan_blend_options(CLI::App& app, GanBlendArgs& a);

// The --latents list split at commas (empty entries refused).
// throws: UsageError for an empty entry.
std::vector<std::string> split_latents_option(const std::string& text);

// The pipeline's GAN settings from the options, with the projection `seed`.
// throws: UsageError (--space), ModelError (--perceptual names no file).
GanBlendSettings to_gan_settings(const GanBlendArgs& args, std::uint64_t seed);

}  // namespace facemix::cli
