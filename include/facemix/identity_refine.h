// Identity refinement of a GAN blend (MIPGAN-style): starting from the mixed
// latent, optimise its W+ rows so that the rendered blend resembles every
// input, evenly, while staying a plausible blend of them.
//
//   facemix::ChipPlacement chip = facemix::chip_placement(facemix::expected_landmarks(crops, weights), R);
//   torch::Tensor image = facemix::blend_image_target(faces_to_targets(crops, R), weights);
//   facemix::IdentityRefinement r = facemix::refine_identity(g, w_mixed, model, descriptors, chip, image);
//   cv::Mat face = facemix::render_face(g, r.w, 1024);
//
// Only w moves (never pixels: a blend that fooled one network with pixel noise
// would fool nobody else); the identity network's and the generator's weights
// stay frozen. Each step renders at a reduced resolution (the skip RGB image of
// a block, as the projector's coarse stages do), cuts the identity chip from it
// with a fixed placement (identity_chip.h) and takes one Adam step on
//   identity_weight * mean_i d_i                        (resemble every input)
// + balance_weight  * mean_{i<j} |d_i - d_j|            (leave nobody behind)
// + image_weight    * pixel pyramid MSE(render, image)  (stay a blend of the inputs)
// + latent_weight   * mean squared change of w          (stay near the mix)
// where d_i is the descriptor distance to input i. No randomness: same inputs,
// same bytes (for a build and thread count).
#pragma once

#include <vector>

#include <torch/torch.h>

#include "facemix/face.h"
#include "facemix/generator.h"
#include "facemix/identity.h"
#include "facemix/identity_chip.h"
#include "facemix/progress.h"

namespace facemix {

struct IdentityRefineOptions {
  int steps = 30;                  // Adam steps (a few dozen, as MIPGAN)
  double learning_rate = 0.01;     // Adam's, on w (betas 0.9, 0.999)
  int render_resolution = 256;     // the loss's image side: min(R, this), a block resolution
  double identity_weight = 1.0;
  double balance_weight = 1.0;
  double image_weight = 1.0;       // pixel MSE in [-1, 1] summed over a pyramid down to 8 px
  double latent_weight = 0.01;     // per w element
};

struct IdentityRefinement {
  torch::Tensor w;                         // [1, num_ws, w_dim], detached: the lowest-loss iterate
  std::vector<double> initial_distances;   // the mixed latent's, to each input (chip of the reduced render)
  std::vector<double> final_distances;     // w's, likewise
  std::vector<double> losses;              // the loss at the start and after every step (steps + 1)
  int best_step = 0;                       // which iterate w is (0 = the mixed latent itself)
  int render_resolution = 0;
  double seconds = 0.0;
};

// requires: w float32 [1, num_ws, w_dim] on the generator's device; targets
//           the inputs' descriptors (>= 1); image_target float32 [1, 3, s, s]
//           in [-1, 1] with s a power of two >= the render resolution;
//           options: steps >= 0, positive learning rate, weights >= 0.
// ensures:  result.w is the iterate of lowest loss (never worse than the
//           start), losses.size() == steps + 1; progress (if set) after every
//           step with stage "refine identity"; check_interrupt() every step.
// throws:   UsageError for arguments that do not fit; Interrupted when a stop
//           was requested.
IdentityRefinement refine_identity(const Generator& generator, const torch::Tensor& w, const IdentityModel& model,
                                   const std::vector<Descriptor>& targets, const ChipPlacement& chip,
                                   const torch::Tensor& image_target, const IdentityRefineOptions& options = {},
                                   const ProgressCallback& progress = {});

// Where the blend's face is expected in the aligned frame: the weighted mean
// of the inputs' aligned landmarks. requires: equal sizes, >= 1.
Landmarks expected_landmarks(const std::vector<Landmarks>& landmarks, const std::vector<double>& weights);

// The image term's target: the weighted mean of images [K, 3, s, s] -> [1, 3, s, s].
// requires: weights.size() == K.
torch::Tensor blend_image_target(const torch::Tensor& images, const std::vector<double>& weights);

}  // namespace facemix
