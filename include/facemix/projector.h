// Projection: finds the latent (and noise maps) with which a StyleGAN2
// generator reproduces given images, by gradient descent as NVIDIA's
// stylegan2-ada-pytorch projector does, run coarse-to-fine for CPU speed.
//
//   facemix::Generator g = facemix::load_generator("ffhq.safetensors");
//   facemix::ProjectorOptions o;                 // NVIDIA defaults, W space, pixel loss
//   o.space = facemix::LatentSpace::kWPlus;
//   torch::Tensor targets = ...;                 // [N, 3, R, R], nominal [-1, 1]
//   facemix::ProjectionResult r = facemix::project(g, targets, o, progress);
//   torch::Tensor img = g->synthesis(r.ws);      // r.ws: [N, num_ws, w_dim]
//
// What is optimised: one w per image broadcast to every style input (W) or one
// row per style input (W+), and one noise map per conv layer and image, all
// jointly with Adam. The loss is a perceptual distance (NVIDIA's LPIPS VGG16
// TorchScript, --perceptual) or, by default, a multi-scale pixel loss that
// needs no extra weights (docs/blending.md describes and measures both).
// Where the target is saturated (0 or 255 in 8 bits), a synthesised value
// beyond it counts as no error, as an 8-bit image could not show it.
//
// Coarse-to-fine: the schedule is a list of stages (resolution, steps). A stage
// below the generator's resolution stops synthesis early (stop_at_resolution)
// and compares the skip RGB image of that block with the target area-
// downsampled to the same size; the optimiser state and the learning-rate and
// w-noise ramps run over the whole schedule. Images above loss_resolution are
// area-downsampled to it before the loss, as NVIDIA does.
//
// All images are projected together as one batch; every image's loss and
// update is independent of the others (the loss is a sum over the batch and
// Adam works element-wise). Deterministic for a given seed, build and thread
// count: all randomness comes from one torch generator per image, seeded from
// `seed` (see ProjectorOptions::image_seeds).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "facemix/generator.h"
#include "facemix/identity.h"
#include "facemix/identity_chip.h"
#include "facemix/progress.h"

namespace facemix {

enum class LatentSpace {
  kW,      // one w per image, broadcast to every style input (NVIDIA's projector)
  kWPlus,  // one w row per style input
};
// "w" | "wplus" (also "w+"); throws UsageError otherwise.
LatentSpace parse_latent_space(const std::string& name);
std::string to_string(LatentSpace space);  // "w" | "wplus"

struct ProjectionStage {
  int resolution = 0;  // a block resolution of the generator (4, 8, ..., R)
  int steps = 0;       // >= 1
};
using ProjectionSchedule = std::vector<ProjectionStage>;

// The default schedule for a generator of resolution R (chosen by measuring
// round-trip PSNR against time, see docs/blending.md).
// requires: R a power of two in [4, 1024].
ProjectionSchedule default_schedule(int img_resolution);

// Parses "RES:STEPS,RES:STEPS,..." (e.g. "32:200,64:100,full:20"); RES is a
// power of two or "full" (= img_resolution). Resolutions above the
// generator's are clamped to it.
// ensures: non-empty, resolutions non-decreasing block resolutions, steps >= 1.
// throws:  UsageError naming --schedule for anything else.
ProjectionSchedule parse_schedule(const std::string& text, int img_resolution);
std::string to_string(const ProjectionSchedule& schedule);  // "32:200,64:100"
int total_steps(const ProjectionSchedule& schedule);

struct ProjectorOptions {
  LatentSpace space = LatentSpace::kW;
  ProjectionSchedule schedule;          // empty = default_schedule(R)
  // NVIDIA's projector defaults:
  double learning_rate = 0.1;           // Adam, betas below
  double beta1 = 0.9, beta2 = 0.999;
  double lr_rampup = 0.05;              // linear warm-up over this fraction of all steps
  double lr_rampdown = 0.25;            // cosine ramp-down over this last fraction
  double initial_noise_factor = 0.05;   // w noise std = w_std * factor * max(0, 1 - t / ramp)^2
  double noise_ramp_length = 0.75;
  double noise_regularize_weight = 1e5;
  bool optimize_noise = true;           // false: noise maps fixed at their N(0, 1) start
  // LPIPS VGG16 TorchScript (NVIDIA's metrics vgg16.pt, or any module with its
  // call signature forward(img, resize_images, return_lpips) -> [N, F]).
  // Empty: the multi-scale pixel loss.
  std::string perceptual_model;
  // Weight of the pixel loss (sum over pyramid levels of the mean squared
  // error of images in [-1, 1]) against the noise regulariser; chosen by
  // measurement, see docs/blending.md. Unused with a perceptual model.
  double pixel_loss_weight = 3e4;
  int loss_resolution = 256;            // larger images are area-downsampled to this
  uint64_t seed = 0;
  // Per-image seeds. Empty: image i draws from image_projection_seed(seed,
  // to_string(i)). Otherwise one per target: image i's random start and w
  // noise come only from image_seeds[i], so its result does not depend on the
  // other images in the batch (callers pass image_projection_seed(seed,
  // image_sha256) to make a latent a function of the photo, not its position).
  std::vector<uint64_t> image_seeds;
  // Identity term (--identity-weight; 0 = off, today's exact results): adds
  // identity_weight x the descriptor distance between the identity chip of
  // image i's synthesised image (identity_chips[i], in the R px frame) and
  // identity_targets[i] to image i's loss, at stages of at least
  // identity_min_resolution px (the chip of a smaller image is a blur). It is
  // weighed against pixel_loss_weight x MSE: on the 64 px golden model 3e5
  // brings a projection's descriptor 0.05 closer (tests/project).
  double identity_weight = 0.0;
  const IdentityModel* identity_model = nullptr;  // not owned; needed when identity_weight > 0
  std::vector<Descriptor> identity_targets;       // one per image
  std::vector<ChipPlacement> identity_chips;      // one per image
  int identity_min_resolution = 64;
};

// A well-mixed seed for one image's random stream from the run's seed and a
// key naming the image (its content hash, or its index).
uint64_t image_projection_seed(uint64_t seed, const std::string& image_key);

// ensures: the options as one JSON object (space, schedule, loss, every
//          number), for the sidecar of saved latents.
std::string to_json(const ProjectorOptions& options, int img_resolution);

// The distribution of w under the mapping network, as NVIDIA's projector
// measures it: 10000 z ~ N(0, I) drawn from a fixed seed, mapped (no
// truncation); w_std = sqrt(sum over dimensions of the sample variance).
struct WStatistics {
  torch::Tensor w_avg;  // [w_dim], the model's stored w_avg (the projection's start)
  double w_std = 0.0;
};
// Computed once per generator object and cached in memory (thread-safe).
WStatistics w_statistics(const Generator& generator);

struct StageReport {
  ProjectionStage stage;
  double seconds = 0.0;
  double final_loss = 0.0;  // mean over images of the loss at the stage's last step
};

struct ProjectionResult {
  torch::Tensor ws;                   // [N, num_ws, w_dim] float32 (W: equal rows)
  std::vector<torch::Tensor> noise;   // optimised maps, noise_layers() order, [N, 1, r, r]
  std::vector<StageReport> stages;
};

// Projects `targets` into the generator's latent space.
// requires: targets float32 [N, img_channels, R, R] with R = the generator's
//           resolution, on its device, N >= 1, nominal range [-1, 1].
// ensures:  result.ws and result.noise detached (no grad); the generator's
//           weights are untouched. progress (if set) is called after every
//           step with stage "project <r>px", step/total within the stage and
//           the mean loss; check_interrupt() is called every step.
// throws:   UsageError for targets or options that do not fit (schedule,
//           numbers out of range, an identity weight without a model, one
//           target and one chip per image); ModelError naming options.perceptual_model
//           when it cannot be loaded or does not take/return the expected
//           tensors; Interrupted when a stop was requested.
ProjectionResult project(const Generator& generator, const torch::Tensor& targets,
                         const ProjectorOptions& options, const ProgressCallback& progress = {});

// Peak signal-to-noise ratio of `a` against `b` for the nominal range [-1, 1]
// (peak-to-peak 2): 10 log10(4 / mse), per image. a, b: [N, C, H, W].
std::vector<double> psnr(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace facemix
