// Identity-balanced morph weights: choose how much of each input's shape and of
// each facial region's appearance goes into a blend, so that the blend
// resembles every input as evenly and as closely as the identity network can
// tell, staying near the weights the user asked for.
//
//   facemix::IdentityBalance b = facemix::balance_identity(faces, input_descriptors, model, requested);
//   facemix::MorphResult r = facemix::Morpher(faces, b.mix.shape).render(b.mix);
//
// The search is derivative-free over a few natural parameters (the shape
// weights and the appearance weights of the eyes, nose, mouth and rest of the
// face; the backdrop keeps the requested weights): it never edits pixels
// against the network. Candidates are rendered at a reduced size and described
// from their chips (the blended landmarks are known, so nothing is
// re-detected). The objective is the largest distance to any input plus a
// small penalty for leaving the requested weights. Deterministic.
#pragma once

#include <vector>

#include "facemix/identity.h"
#include "facemix/morph.h"

namespace facemix {

struct IdentityBalanceOptions {
  int search_size = 512;       // side of the candidates' crops (the chip needs ~150 px of face; larger outputs are searched at this size)
  double stay_near = 0.1;      // penalty per unit of mean squared weight change
  double min_weight = 0.05;    // every weight of every part stays at least this
  std::vector<double> joint_steps = {0.1, 0.2, 0.3};  // first: all parts toward one input
  std::vector<double> part_steps = {0.3, 0.15, 0.075};  // then each part alone, step by step
  int max_rounds = 4;          // improving moves per part step before it shrinks
  double mean_share = 0.0;     // objective: largest distance + mean_share * mean distance
  bool paired_moves = false;   // also two parts at once, toward different inputs
  bool shape_by_region = true; // search each region's geometry (else one shape for all)
};

struct IdentityBalance {
  MorphMix mix;                          // the chosen weights
  std::vector<double> distances;         // of the chosen mix, at search size, to each input
  std::vector<double> requested_distances;  // of the requested weights, likewise
  int candidates = 0;                    // blends rendered and described
};

// requires: faces.size() == targets.size() == requested.size() >= 2; faces as
//           for Morpher (aligned crops of one size, their landmarks); targets
//           the inputs' descriptors; requested normalised weights.
// ensures:  result.mix.backdrop == requested; the objective of result.mix is
//           no worse than that of MorphMix::uniform(requested).
IdentityBalance balance_identity(const std::vector<MorphFace>& faces, const std::vector<Descriptor>& targets,
                                 const IdentityModel& model, const std::vector<double>& requested,
                                 const IdentityBalanceOptions& options = {});

// The descriptor of a morph result (its chip cut at the result's own landmarks).
Descriptor describe_morph(const IdentityModel& model, const MorphResult& result);

}  // namespace facemix
