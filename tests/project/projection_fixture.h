// Helpers for the projection tests: targets rendered by a generator, renders
// of projection results, and the perceptual test module.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

#include "facemix/generator.h"
#include "test_support.h"

namespace facemix::test {

// The generator's images of z_from_seed(seed) (psi 1, noise const), as 8-bit
// images would carry them: quantised like generator_image_to_bgr and mapped
// back to [-1, 1]. [N, 3, R, R].
torch::Tensor rendered_targets(const Generator& g, const std::vector<uint64_t>& seeds);

// synthesis(ws) with the given noise maps (empty: the model's own), as 8-bit
// values in [-1, 1] like rendered_targets.
torch::Tensor render(const Generator& g, const torch::Tensor& ws, const std::vector<torch::Tensor>& noise = {});

// w_avg in every row, for n images: the projection's starting point.
torch::Tensor start_ws(const Generator& g, int64_t n);

double mean(const std::vector<double>& v);

// Writes the small TorchScript module of make_perceptual_module.py into `dir`
// with Debian's torch (/usr/bin/python3); returns its path.
// throws std::runtime_error when the script fails.
std::string make_perceptual_module(const ScratchDir& dir);

}  // namespace facemix::test
