#include "projection_fixture.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace facemix::test {

namespace {
torch::Tensor as_8bit(const torch::Tensor& img) {
  return (img * 127.5 + 128).clamp(0, 255).floor().sub(128).div(127.5);
}
}  // namespace

torch::Tensor rendered_targets(const Generator& g, const std::vector<uint64_t>& seeds) {
  torch::InferenceMode guard;
  std::vector<torch::Tensor> zs;
  for (uint64_t s : seeds) zs.push_back(z_from_seed(s, g->config().z_dim));
  const torch::Tensor img = as_8bit(g->synthesis(g->mapping(torch::cat(zs, 0))));
  return torch::Tensor(img.clone());
}

torch::Tensor render(const Generator& g, const torch::Tensor& ws, const std::vector<torch::Tensor>& noise) {
  torch::InferenceMode guard;
  SynthesisOptions o;
  o.noise = noise;
  return as_8bit(g->synthesis(ws, o)).clone();
}

torch::Tensor start_ws(const Generator& g, int64_t n) {
  return g->w_avg().reshape({1, 1, -1}).expand({n, g->num_ws(), -1}).contiguous();
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

std::string make_perceptual_module(const ScratchDir& dir) {
  const std::string out = dir.file("perceptual.pt");
  const std::string script = source_dir() + "/tests/project/make_perceptual_module.py";
  const std::string cmd = "/usr/bin/python3 '" + script + "' '" + out + "' 2>" + dir.file("python.log");
  if (std::system(cmd.c_str()) != 0 || !std::filesystem::exists(out))
    throw std::runtime_error("could not build the perceptual test module: " + cmd + "\n" +
                             read_file(dir.file("python.log")));
  return out;
}

}  // namespace facemix::test
