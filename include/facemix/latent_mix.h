// Mixing latents: per-input weights, optionally different per range of style
// rows (layers), for the GAN engine.
//
//   auto mixes = {facemix::parse_layer_mix("coarse=@1", 2), facemix::parse_layer_mix("fine=0.2,0.8", 2)};
//   facemix::RowWeights rw = facemix::row_weights(num_ws, {0.5, 0.5}, mixes);
//   torch::Tensor w = facemix::mix_latents(ws, rw);     // ws [K, num_ws, w_dim] -> [1, num_ws, w_dim]
//
// Style rows by what they control (the StyleGAN paper's split; row i drives
// the layers at 2^(floor((i+1)/2) + 2) px):
//   coarse  rows 0-3   4-8 px (and the 16 px up-sampling conv): pose, face shape, hair style, glasses
//   middle  rows 4-7   16-32 px: facial features, eyes open/closed, hair details
//   fine    rows 8-    64 px and up: colour scheme, skin and hair micro-structure
// The names mean the same rows for every model; a model with fewer rows
// (num_ws = 2 log2(R) - 2) simply has fewer of them.
//
// --mix syntax (docs/blending.md): RANGE=WEIGHTS, repeatable; later ones win
// where ranges overlap; rows no --mix names use -w.
//   RANGE   coarse | middle | fine | ROW | FIRST-LAST | FIRST- (to the last row)
//   WEIGHTS @K (all from input K, 1 = the first) | comma-separated weights, one
//           per input, normalised to sum 1 like -w
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace facemix {

struct LayerMix {
  std::string spec;        // as given, for messages
  int first_row = 0;
  int last_row = -1;       // inclusive; -1 = the model's last row
  std::vector<double> weights;  // one per input, sum 1
};

// requires: inputs >= 1.
// ensures:  the parsed spec, weights normalised (parse_weights / normalize_weights
//           of morph.h; @K gives the one-hot vector of input K).
// throws:   UsageError naming --mix and the spec for an unknown range name,
//           a bad row range, K out of 1..inputs, or bad weights.
LayerMix parse_layer_mix(const std::string& spec, std::size_t inputs);

// Per style row, the weight of each input: [num_ws][inputs].
using RowWeights = std::vector<std::vector<double>>;

// requires: weights.size() == inputs of every mix; num_ws >= 1.
// ensures:  row i holds the weights of the last mix whose range covers i,
//           else `weights`. Ranges are clipped to the model's rows.
// throws:   UsageError naming the spec when a mix covers none of the model's
//           num_ws rows (e.g. fine on an 8-row 32 px model).
RowWeights row_weights(int num_ws, const std::vector<double>& weights, const std::vector<LayerMix>& mixes);

// requires: ws float32 [K, num_ws, w_dim]; rows.size() == num_ws, each of size K.
// ensures:  [1, num_ws, w_dim] float32 with row i = sum_k rows[i][k] * ws[k, i],
//           accumulated in float64 (so a one-hot row reproduces that input's
//           row exactly, and the result is linear in the weights).
// throws:   UsageError for mismatched shapes.
torch::Tensor mix_latents(const torch::Tensor& ws, const RowWeights& rows);

}  // namespace facemix
