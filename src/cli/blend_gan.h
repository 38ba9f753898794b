// The GAN engine of the main blend form: its options, and the run once
// cmd_blend.cpp has decided inputs, weights and outputs.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "facemix/sequence.h"
#include "projection_options.h"

namespace facemix::cli {

struct GanBlendArgs {
  ProjectionArgs projection;      // --space, --schedule, --perceptual, optimiser numbers
  std::vector<std::string> mix;   // --mix RANGE=WEIGHTS, repeatable
  double truncation = 1.0;
  std::string save_latents;       // DIR, or ""
  std::string latents;            // --latents A.npz,B.npz (appended to the inputs)
  std::string device = "cpu";
};

// Adds the GAN engine's options (groups "GAN engine", "Projection",
// "Optimiser (NVIDIA's defaults)") to the main form.
void add_gan_blend_options(CLI::App& app, GanBlendArgs& a);

// The --latents list split at commas (empty entries refused).
// throws: UsageError for an empty entry.
std::vector<std::string> split_latents_option(const std::string& text);

// Everything cmd_blend.cpp decided before the engine runs.
struct GanBlendJob {
  std::vector<std::string> inputs;  // photos and latent files (.npz/.npy), in weight order
  std::string model;                // the model file
  std::string output;
  std::vector<double> weights;      // normalised, one per input
  int size = 1024;
  int face = 0;
  std::uint64_t seed = 0;
  std::string landmarks_model;
  std::string keep_aligned;                // DIR or ""
  std::vector<std::string> keep_outputs;   // aligned-crop path per input ("" = none / skipped)
  int paste_target = -1;                   // input index, -1 = no paste-back
  std::optional<SequenceFormat> sequence;  // set: --frames
  int frames = 0;
  bool boomerang = false;
  double fps = 25.0;
};

// Runs the GAN engine: loads the model, checks the latent inputs and every
// output, aligns and projects the photos (one batch), mixes, renders, and
// writes the outputs. Returns the exit code (0).
// throws: facemix::Error subclasses as documented in README.md.
int run_gan_blend(const GanBlendJob& job, const GanBlendArgs& args, const GlobalOptions& g);

}  // namespace facemix::cli
