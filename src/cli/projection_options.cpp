#include "projection_options.h"

#include <filesystem>
#include <vector>

#include "facemix/errors.h"

namespace facemix::cli {

void add_projection_options(CLI::App& app, ProjectionArgs& a, const std::string& group,
                            const std::string& advanced_group) {
  ProjectorOptions& n = a.numbers;
  app.add_option("--space", a.space,
                 "Latent space: w (one w for all layers, NVIDIA's projector) or wplus (one per layer: "
                 "closer reconstructions, blends less clean)")
      ->check(CLI::IsMember({"w", "wplus", "w+"}))
      ->group(group);
  app.add_option("--schedule", a.schedule,
                 "Coarse-to-fine projection stages RES:STEPS,... (RES a power of two or 'full'); "
                 "default: the model's, e.g. 32:150,64:40 at 1024 px")
      ->group(group);
  app.add_option("--perceptual", a.perceptual,
                 "LPIPS VGG16 TorchScript (NVIDIA's vgg16.pt) for a perceptual projection loss; "
                 "default: a multi-scale pixel loss needing no extra weights")
      ->group(group);

  app.add_option("--lr", n.learning_rate, "Adam learning rate")->check(CLI::PositiveNumber)->group(advanced_group);
  auto* betas = app.add_option_function<std::vector<double>>(
      "--betas",
      [&n](const std::vector<double>& b) {
        if (b.size() != 2 || !(b[0] >= 0 && b[0] < 1) || !(b[1] >= 0 && b[1] < 1))
          throw CLI::ValidationError("--betas", "expected B1,B2 in [0, 1)");
        n.beta1 = b[0];
        n.beta2 = b[1];
      },
      "Adam betas B1,B2 (default 0.9,0.999)");
  betas->delimiter(',')->expected(2)->group(advanced_group);
  app.add_option("--lr-rampup", n.lr_rampup, "Linear learning-rate warm-up, fraction of all steps")
      ->check(CLI::Range(1e-6, 1.0))
      ->group(advanced_group);
  app.add_option("--lr-rampdown", n.lr_rampdown, "Cosine learning-rate ramp-down, last fraction of all steps")
      ->check(CLI::Range(1e-6, 1.0))
      ->group(advanced_group);
  app.add_option("--w-noise", n.initial_noise_factor, "Initial w noise, times w_std")
      ->check(CLI::Range(0.0, 10.0))
      ->group(advanced_group);
  app.add_option("--w-noise-ramp", n.noise_ramp_length, "w noise decays to 0 over this fraction of all steps")
      ->check(CLI::Range(1e-6, 10.0))
      ->group(advanced_group);
  app.add_option("--noise-reg", n.noise_regularize_weight, "Noise-map regularisation weight")
      ->check(CLI::Range(0.0, 1e12))
      ->group(advanced_group);
  app.add_option("--pixel-weight", n.pixel_loss_weight, "Weight of the pixel loss against --noise-reg")
      ->check(CLI::PositiveNumber)
      ->group(advanced_group);
  app.add_flag("--fixed-noise", a.fixed_noise, "Do not optimise the noise maps (keep their random start)")
      ->group(advanced_group);
}

ProjectorOptions to_projector_options_unscheduled(const ProjectionArgs& a) {
  ProjectorOptions o = a.numbers;
  o.space = parse_latent_space(a.space);
  o.seed = a.seed;
  o.optimize_noise = !a.fixed_noise;
  if (!a.perceptual.empty()) {
    if (!std::filesystem::is_regular_file(a.perceptual))
      throw ModelError(a.perceptual + ": --perceptual: no such file");
    o.perceptual_model = a.perceptual;
  }
  return o;
}

ProjectorOptions to_projector_options(const ProjectionArgs& a, int img_resolution) {
  ProjectorOptions o = to_projector_options_unscheduled(a);
  o.schedule = a.schedule.empty() ? default_schedule(img_resolution) : parse_schedule(a.schedule, img_resolution);
  return o;
}

}  // namespace facemix::cli
