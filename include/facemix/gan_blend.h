// The GAN engine's steps around projection: aligned faces in, latents mixed,
// a face rendered out.
//
//   torch::Tensor targets = facemix::faces_to_targets(aligned_crops, g->config().img_resolution);
//   facemix::ProjectionResult p = facemix::project(g, targets, options, progress);   // projector.h
//   torch::Tensor w = facemix::blend_latents(g, p.ws, facemix::row_weights(...), psi);
//   cv::Mat face = facemix::render_face(g, w, 1024);
//
// Rendering uses the model's own noise buffers (noise mode const), never the
// per-image noise maps the projector optimised: a blend, a reconstruction and
// a render of a saved latent (which holds no noise) are then all the same
// function of w, and a one-hot weight reproduces exactly the input's render.
#pragma once

#include <vector>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "facemix/face.h"
#include "facemix/generator.h"
#include "facemix/latent_mix.h"

namespace facemix {

// requires: faces non-empty, each CV_8UC3 BGR and square (FFHQ-aligned crops).
// ensures:  float32 [N, 3, R, R] RGB in [-1, 1] (bgr_to_generator_image), each
//           face resized to R x R first when its side differs (Pillow Lanczos,
//           as NVIDIA's dataset tool).
// throws:   UsageError for a face that is empty, not CV_8UC3 or not square.
torch::Tensor faces_to_targets(const std::vector<cv::Mat>& faces, int resolution);

// requires: ws float32 [K, num_ws, w_dim]; rows from row_weights(num_ws, ...);
//           psi finite.
// ensures:  mix_latents(ws, rows), then truncation towards the model's w_avg
//           with psi on every row (psi = 1: none); [1, num_ws, w_dim].
// throws:   UsageError for mismatched shapes.
torch::Tensor blend_latents(const Generator& generator, const torch::Tensor& ws, const RowWeights& rows,
                            double psi = 1.0);

// requires: w float32 [1, num_ws, w_dim]; size in [16, 4096].
// ensures:  the generator's image of w (noise mode const, under InferenceMode),
//           as CV_8UC3 BGR resized to size x size (Pillow Lanczos) when size
//           differs from the model's resolution. Deterministic.
cv::Mat render_face(const Generator& generator, const torch::Tensor& w, int size);

// The landmarks of a rendered face (size x size, FFHQ frame) for paste-back:
// those `detector` finds when its first face is centred in the image, else
// `fallback` (the target photo's landmarks in the same aligned frame).
Landmarks blended_face_landmarks(const FaceDetector& detector, const cv::Mat& face, const Landmarks& fallback);

}  // namespace facemix
