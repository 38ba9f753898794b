// Identity refinement of a GAN blend: Adam on w through the generator's
// reduced render, the differentiable chip and the frozen identity network.
#include "facemix/identity_refine.h"

#include <chrono>
#include <cmath>
#include <limits>

#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "project/loss.h"

namespace facemix {
namespace {

void check_arguments(const Generator& g, const torch::Tensor& w, const std::vector<Descriptor>& targets,
                     const torch::Tensor& image, int resolution, const IdentityRefineOptions& o) {
  const GeneratorConfig& c = g->config();
  if (w.dim() != 3 || w.size(0) != 1 || w.size(1) != c.num_ws() || w.size(2) != c.w_dim ||
      w.scalar_type() != torch::kFloat32)
    throw UsageError("refine_identity: w must be float32 [1, num_ws, w_dim]");
  if (targets.empty()) throw UsageError("refine_identity: no input descriptors");
  if (image.dim() != 4 || image.size(0) != 1 || image.size(1) != 3 || image.size(2) != image.size(3) ||
      image.size(2) < resolution || image.size(2) % resolution != 0 || image.scalar_type() != torch::kFloat32)
    throw UsageError("refine_identity: the image target must be float32 [1, 3, s, s] with s a multiple of " +
                     std::to_string(resolution));
  auto non_negative = [](double v) { return std::isfinite(v) && v >= 0; };
  if (o.steps < 0 || !(std::isfinite(o.learning_rate) && o.learning_rate > 0) || !non_negative(o.identity_weight) ||
      !non_negative(o.balance_weight) || !non_negative(o.image_weight) || !non_negative(o.latent_weight))
    throw UsageError("refine_identity: steps, learning rate or loss weights out of range");
  if (o.render_resolution < 4 || (o.render_resolution & (o.render_resolution - 1)) != 0)
    throw UsageError("refine identity: render resolution " + std::to_string(o.render_resolution) +
                     " is not a power of two >= 4");
}

struct Evaluation {
  torch::Tensor loss;       // scalar, differentiable w.r.t. w
  torch::Tensor distances;  // [K], detached
};

}  // namespace

IdentityRefinement refine_identity(const Generator& g, const torch::Tensor& w0, const IdentityModel& model,
                                   const std::vector<Descriptor>& targets, const ChipPlacement& chip,
                                   const torch::Tensor& image_target, const IdentityRefineOptions& o,
                                   const ProgressCallback& progress) {
  const auto start = std::chrono::steady_clock::now();
  const int R = g->config().img_resolution;
  const int r = std::min(R, o.render_resolution);
  check_arguments(g, w0, targets, image_target, r, o);
  const torch::Device device = w0.device();
  const torch::Tensor target_d = descriptor_tensor(targets).to(device);
  const int64_t K = target_d.size(0);
  std::unique_ptr<projection::ProjectionLoss> pixels = projection::make_pixel_pyramid_loss(1.0);
  pixels->set_target(projection::area_downsample(image_target.to(device), r));
  SynthesisOptions so;
  so.stop_at_resolution = r == R ? 0 : r;
  const torch::Tensor start_w = w0.detach().clone();

  auto evaluate = [&](const torch::Tensor& w) {
    const torch::Tensor img = g->synthesis(w, so);
    const torch::Tensor d = model.net->forward(cut_chips(img, chip));        // [1, 128]
    const torch::Tensor dist = descriptor_distances(d, target_d);           // [K]
    torch::Tensor loss = o.identity_weight * dist.mean();
    if (K > 1 && o.balance_weight > 0)
      loss = loss + o.balance_weight * (dist.unsqueeze(0) - dist.unsqueeze(1)).abs().sum() / (K * (K - 1));
    if (o.image_weight > 0) loss = loss + o.image_weight * pixels->distance(img).sum();
    if (o.latent_weight > 0) loss = loss + o.latent_weight * (w - start_w).square().mean();
    return Evaluation{loss, dist.detach()};
  };
  auto to_vector = [](const torch::Tensor& t) {
    const torch::Tensor c = t.to(torch::kCPU, torch::kDouble).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
  };

  IdentityRefinement result;
  result.render_resolution = r;
  torch::Tensor w = start_w.clone().requires_grad_(true);
  torch::optim::Adam adam({w}, torch::optim::AdamOptions(o.learning_rate).betas({0.9, 0.999}));
  double best_loss = std::numeric_limits<double>::infinity();
  torch::Tensor best_distances;
  // Step s evaluates iterate s (its loss is recorded) and then moves w; the
  // last evaluation only scores the final iterate.
  for (int s = 0; s <= o.steps; ++s) {
    check_interrupt();
    Evaluation e = evaluate(w);
    const double loss = e.loss.item<double>();
    result.losses.push_back(loss);
    if (s == 0) result.initial_distances = to_vector(e.distances);
    if (loss < best_loss) {
      best_loss = loss;
      best_distances = e.distances;
      result.w = w.detach().clone();
      result.best_step = s;
    }
    if (s == o.steps) break;
    adam.zero_grad();
    e.loss.backward();
    adam.step();
    if (progress) progress({"refine identity", s + 1, o.steps, loss});
  }
  result.final_distances = to_vector(best_distances);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::debug("refine identity: {} steps at {} px in {:.2f} s, loss {:.4f} -> {:.4f} (best at step {})", o.steps, r,
                result.seconds, result.losses.front(), best_loss, result.best_step);
  return result;
}

Landmarks expected_landmarks(const std::vector<Landmarks>& landmarks, const std::vector<double>& weights) {
  if (landmarks.empty() || landmarks.size() != weights.size())
    throw UsageError("expected_landmarks: one weight per set of landmarks");
  Landmarks out{};
  for (std::size_t i = 0; i < landmarks.size(); ++i)
    for (std::size_t k = 0; k < out.size(); ++k) out[k] += landmarks[i][k] * weights[i];
  return out;
}

torch::Tensor blend_image_target(const torch::Tensor& images, const std::vector<double>& weights) {
  if (images.dim() != 4 || images.size(0) != static_cast<int64_t>(weights.size()))
    throw UsageError("blend_image_target: one weight per image");
  const torch::Tensor w = torch::tensor(weights, torch::kFloat64).to(images.device()).reshape({-1, 1, 1, 1});
  return (images.to(torch::kFloat64) * w).sum(0, /*keepdim=*/true).to(torch::kFloat32);
}

}  // namespace facemix
