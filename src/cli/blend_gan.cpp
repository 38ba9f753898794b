#include "blend_gan.h"

#include <sstream>

#include "facemix/errors.h"

namespace facemix::cli {

void add_gan_blend_options(CLI::App& app, GanBlendArgs& a) {
  const char* gan = "GAN engine";
  app.add_option("--mix", a.mix,
                 "Per-layer mixing RANGE=WEIGHTS, repeatable: RANGE coarse (rows 0-3: pose, face shape), "
                 "middle (4-7: features), fine (8-: colour, texture), ROW, A-B or A-; WEIGHTS @K (all from "
                 "input K) or one weight per input. E.g. --mix coarse=@1 --mix fine=0.2,0.8")
      ->group(gan);
  app.add_option("--truncation", a.truncation, "Truncation psi towards the model's average face, after mixing")
      ->check(CLI::Range(-2.0, 2.0))
      ->group(gan);
  app.add_option("--latents", a.latents,
                 "Latent files A.npz,B.npz used as further inputs without projection (after the images)")
      ->group(gan);
  app.add_option("--save-latents", a.save_latents,
                 "Save each photo's projected latent as DIR/<name>.npz (+ .json: hashes, settings)")
      ->group(gan);
  app.add_option("--device", a.device, "cpu or cuda[:N] (needs a CUDA LibTorch)")->group(gan);
  add_projection_options(app, a.projection, "Projection", "Optimiser (NVIDIA's defaults)");
  app.add_option("--identity-weight", a.identity_weight,
                 "Add X times the identity distance between each projection and its photo to the projection "
                 "loss, from the 64 px stage up (0 = off; needs the identity model; it is weighed against "
                 "--pixel-weight x the mean squared error; not measured on real models)")
      ->check(CLI::Range(0.0, 1e9))
      ->group("Projection");
}

std::vector<std::string> split_latents_option(const std::string& text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) throw UsageError("--latents " + text + ": empty file name");
    out.push_back(item);
  }
  if (text.back() == ',') throw UsageError("--latents " + text + ": empty file name");
  return out;
}

GanBlendSettings to_gan_settings(const GanBlendArgs& args, std::uint64_t seed) {
  ProjectionArgs pa = args.projection;
  pa.seed = seed;
  GanBlendSettings s;
  s.projection = to_projector_options_unscheduled(pa);
  s.projection.identity_weight = args.identity_weight;
  s.schedule = pa.schedule;
  s.mix = args.mix;
  s.truncation = args.truncation;
  s.device = args.device;
  s.save_latents = args.save_latents;
  return s;
}

}  // namespace facemix::cli
