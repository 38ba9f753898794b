// The projection loop (NVIDIA's projector, coarse-to-fine, batched).
#include <algorithm>
#include <chrono>
#include <cmath>

#include <ATen/CPUGeneratorImpl.h>
#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "facemix/projector.h"
#include "loss.h"

namespace facemix {
namespace {

constexpr double kPi = 3.14159265358979323846;

int log2_int(int v) {
  int k = 0;
  while ((1 << k) < v) ++k;
  return k;
}

// Style rows the blocks up to `resolution` read: b4 reads 0-1, b(2^k) up to 2k-3.
int rows_used_up_to(int resolution) { return 2 * log2_int(resolution) - 2; }

// NVIDIA's learning-rate schedule at t = step / total.
double learning_rate_at(const ProjectorOptions& o, double t) {
  double ramp = std::min(1.0, (1.0 - t) / o.lr_rampdown);
  ramp = 0.5 - 0.5 * std::cos(ramp * kPi);
  ramp *= std::min(1.0, t / o.lr_rampup);
  return o.learning_rate * ramp;
}

// NVIDIA's noise regulariser, per image: at every level of an average-pool
// pyramid of each map (down to 8 px), the squared mean of the map times itself
// shifted by one pixel, horizontally and vertically. Maps: [N, 1, r, r].
torch::Tensor noise_regularizer(const std::vector<torch::Tensor>& maps, int64_t batch) {
  torch::Tensor reg = torch::zeros({batch}, maps.front().options().requires_grad(false));
  for (torch::Tensor n : maps) {
    while (true) {
      reg = reg + (n * torch::roll(n, 1, 3)).mean({1, 2, 3}).square() +
            (n * torch::roll(n, 1, 2)).mean({1, 2, 3}).square();
      if (n.size(3) <= 8) break;
      n = torch::avg_pool2d(n, {2, 2}, {2, 2});
    }
  }
  return reg;
}

// Zero mean, unit variance per image, in place on the leaf's data (outside the graph).
void renormalise(const torch::Tensor& map) {
  torch::Tensor d = map.detach();
  d.sub_(d.mean({1, 2, 3}, /*keepdim=*/true));
  d.mul_(d.square().mean({1, 2, 3}, /*keepdim=*/true).rsqrt());
}

void check_options(const ProjectorOptions& o, const ProjectionSchedule& schedule, int R) {
  auto positive = [](double v) { return std::isfinite(v) && v > 0; };
  if (!positive(o.learning_rate) || !positive(o.lr_rampup) || !positive(o.lr_rampdown) ||
      !positive(o.noise_ramp_length) || !(o.initial_noise_factor >= 0) || !(o.noise_regularize_weight >= 0) ||
      !(o.beta1 >= 0 && o.beta1 < 1) || !(o.beta2 >= 0 && o.beta2 < 1) || !positive(o.pixel_loss_weight))
    throw UsageError("projection: learning rate, ramps, betas, noise settings or loss weight out of range");
  if (!(o.identity_weight >= 0) || !std::isfinite(o.identity_weight))
    throw UsageError("projection: --identity-weight must be a finite number >= 0");
  if (o.loss_resolution < 8 || (o.loss_resolution & (o.loss_resolution - 1)) != 0)
    throw UsageError("projection: loss resolution " + std::to_string(o.loss_resolution) +
                     " is not a power of two >= 8");
  int prev = 0;
  for (const auto& s : schedule) {
    if (s.resolution < 4 || s.resolution > R || (s.resolution & (s.resolution - 1)) != 0 || s.steps < 1 ||
        s.resolution < prev)
      throw UsageError("projection schedule " + to_string(schedule) + " does not fit a " + std::to_string(R) +
                       " px generator (non-decreasing block resolutions, steps >= 1)");
    prev = s.resolution;
  }
}

// 8-bit images cannot show values beyond their range: where the target is
// saturated (0 or 255), a synthesised value further out is no error.
constexpr double kImageMax = 127.0 / 127.5, kImageMin = -128.0 / 127.5;  // 255 and 0 in [-1, 1]
torch::Tensor saturate_like(const torch::Tensor& synth, const torch::Tensor& hi, const torch::Tensor& lo) {
  torch::Tensor s = torch::where(hi, torch::clamp_max(synth, kImageMax), synth);
  return torch::where(lo, torch::clamp_min(s, kImageMin), s);
}

// W+: rows no stage has reached yet copy the last reached row, so that layers
// above the current stage see the best estimate rather than the start value.
void fill_unreached_rows(const torch::Tensor& w_opt, int reached) {
  const int64_t rows = w_opt.size(1);
  if (rows == 1 || reached >= rows) return;
  torch::Tensor d = w_opt.detach();
  d.narrow(1, reached, rows - reached).copy_(d.narrow(1, reached - 1, 1).expand({-1, rows - reached, -1}));
}

// Per image, the descriptor distance of its chip to its target: [N].
torch::Tensor identity_distances(const IdentityModel& model, const torch::Tensor& images, const ProjectorOptions& o) {
  std::vector<torch::Tensor> chips;
  for (int64_t i = 0; i < images.size(0); ++i)
    chips.push_back(cut_chips(images.narrow(0, i, 1), o.identity_chips[static_cast<std::size_t>(i)]));
  const torch::Tensor descriptors = model.net->forward(torch::cat(chips, 0));
  return descriptor_distances(descriptors, descriptor_tensor(o.identity_targets).to(descriptors.device()));
}

}  // namespace

ProjectionResult project(const Generator& g, const torch::Tensor& targets, const ProjectorOptions& o,
                         const ProgressCallback& progress) {
  const GeneratorConfig& c = g->config();
  const int R = c.img_resolution, num_ws = c.num_ws();
  if (targets.dim() != 4 || targets.size(0) < 1 || targets.size(1) != c.img_channels || targets.size(2) != R ||
      targets.size(3) != R || targets.scalar_type() != torch::kFloat32)
    throw UsageError("projection: targets must be float32 [N, " + std::to_string(c.img_channels) + ", " +
                     std::to_string(R) + ", " + std::to_string(R) + "]");
  const ProjectionSchedule schedule = o.schedule.empty() ? default_schedule(R) : o.schedule;
  check_options(o, schedule, R);

  const int64_t N = targets.size(0);
  const bool identity = o.identity_weight > 0;
  if (identity && (o.identity_model == nullptr || static_cast<int64_t>(o.identity_targets.size()) != N ||
                   static_cast<int64_t>(o.identity_chips.size()) != N))
    throw UsageError("projection: the identity term needs the identity model and one descriptor and chip per image");
  const torch::Device device = targets.device();
  const WStatistics stats = w_statistics(g);
  if (!o.image_seeds.empty() && static_cast<int64_t>(o.image_seeds.size()) != N)
    throw UsageError("projection: " + std::to_string(o.image_seeds.size()) + " image seeds for " +
                     std::to_string(N) + " images");
  // One random stream per image, so that an image's projection does not depend
  // on which other images share its batch (a cached latent stays valid).
  std::vector<at::Generator> rngs;
  for (int64_t i = 0; i < N; ++i)
    rngs.push_back(at::detail::createCPUGenerator(
        o.image_seeds.empty() ? image_projection_seed(o.seed, std::to_string(i)) : o.image_seeds[i]));
  auto randn = [&](std::vector<int64_t> shape) {  // shape[0] == N
    shape[0] = 1;
    std::vector<torch::Tensor> parts;
    for (auto& rng : rngs) parts.push_back(torch::randn(shape, rng, torch::kFloat32));
    return torch::cat(parts, 0).to(device);
  };

  // Variables: w (one row or one per style input) and one noise map per conv layer.
  const int64_t rows = o.space == LatentSpace::kW ? 1 : num_ws;
  torch::Tensor w_opt = stats.w_avg.to(device).reshape({1, 1, -1}).repeat({N, rows, 1}).requires_grad_(true);
  const std::vector<NoiseLayer> layers = g->noise_layers();
  std::vector<torch::Tensor> noise;
  for (const auto& l : layers) noise.push_back(randn({N, 1, l.resolution, l.resolution}).requires_grad_(o.optimize_noise));
  std::vector<torch::Tensor> params{w_opt};
  if (o.optimize_noise) params.insert(params.end(), noise.begin(), noise.end());
  torch::optim::Adam adam(params, torch::optim::AdamOptions(o.learning_rate).betas({o.beta1, o.beta2}));
  std::unique_ptr<projection::ProjectionLoss> loss =
      o.perceptual_model.empty() ? projection::make_pixel_pyramid_loss(o.pixel_loss_weight)
                                 : projection::make_perceptual_loss(o.perceptual_model, device);

  ProjectionResult result;
  const int total = total_steps(schedule);
  int step = 0;
  for (const ProjectionStage& stage : schedule) {
    const auto start = std::chrono::steady_clock::now();
    const int r = stage.resolution;
    const int64_t loss_size = std::min(r, o.loss_resolution);
    fill_unreached_rows(w_opt, rows_used_up_to(r));
    const torch::Tensor stage_target = projection::area_downsample(targets, loss_size);
    loss->set_target(stage_target);
    const torch::Tensor hi = stage_target >= kImageMax - 1e-6, lo = stage_target <= kImageMin + 1e-6;

    std::vector<torch::Tensor> active;  // noise maps this stage's layers read
    for (size_t i = 0; i < layers.size(); ++i)
      if (layers[i].resolution <= r) active.push_back(noise[i]);
    SynthesisOptions so;
    so.noise = noise;
    so.stop_at_resolution = r == R ? 0 : r;
    const std::string stage_name = "project " + std::to_string(r) + "px";

    double last_loss = 0.0;
    for (int s = 0; s < stage.steps; ++s, ++step) {
      check_interrupt();
      const double t = static_cast<double>(step) / total;
      const double w_noise_scale =
          stats.w_std * o.initial_noise_factor * std::pow(std::max(0.0, 1.0 - t / o.noise_ramp_length), 2.0);
      for (auto& group : adam.param_groups()) group.options().set_lr(learning_rate_at(o, t));

      torch::Tensor ws = w_opt + randn(w_opt.sizes().vec()) * w_noise_scale;
      if (rows == 1) ws = ws.expand({N, num_ws, -1});
      const torch::Tensor full = g->synthesis(ws, so);
      torch::Tensor img = projection::area_downsample(full, loss_size);
      img = saturate_like(img, hi, lo);
      torch::Tensor dist = loss->distance(img);
      torch::Tensor objective = dist.sum();
      if (identity && r >= o.identity_min_resolution)
        objective = objective + o.identity_weight * identity_distances(*o.identity_model, full, o).sum();
      if (o.optimize_noise && o.noise_regularize_weight > 0)
        objective = objective + noise_regularizer(active, N).sum() * o.noise_regularize_weight;

      for (auto& p : params) p.mutable_grad() = torch::Tensor();
      objective.backward();
      adam.step();
      if (o.optimize_noise)
        for (const auto& n : active) renormalise(n);

      last_loss = dist.detach().mean().item<double>();
      if (progress) progress({stage_name, s + 1, stage.steps, last_loss});
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    spdlog::debug("{}: {} steps in {:.2f} s ({:.2f} steps/s), loss {:.5f}", stage_name, stage.steps, secs,
                  stage.steps / secs, last_loss);
    result.stages.push_back({stage, secs, last_loss});
  }
  fill_unreached_rows(w_opt, rows_used_up_to(schedule.back().resolution));

  result.ws = w_opt.detach().expand({N, num_ws, -1}).contiguous();
  for (const auto& n : noise) result.noise.push_back(n.detach());
  return result;
}

uint64_t image_projection_seed(uint64_t seed, const std::string& image_key) {
  // FNV-1a over the key, then a splitmix64 finaliser mixing in the seed: fixed
  // arithmetic, so the same key and seed give the same stream on every build.
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : image_key) h = (h ^ ch) * 1099511628211ull;
  uint64_t z = h ^ (seed + 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::vector<double> psnr(const torch::Tensor& a, const torch::Tensor& b) {
  const torch::Tensor mse = (a.detach().to(torch::kDouble) - b.detach().to(torch::kDouble)).square().mean({1, 2, 3});
  std::vector<double> out;
  for (int64_t i = 0; i < mse.size(0); ++i) out.push_back(10.0 * std::log10(4.0 / mse[i].item<double>()));
  return out;
}

}  // namespace facemix
