// The main form: `facemix IMAGE IMAGE [IMAGE...] -o OUT` blends the faces of
// the inputs into one face (an image), or renders a sequence through them
// (--frames: GIF, MP4 or a PNG directory), with the morph or the GAN engine.
// This file reads the options into a BlendRequest and prints what the
// pipeline (facemix/pipeline.h) writes; blend_gan.cpp has the GAN options.
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "blend_gan.h"
#include "commands.h"
#include "input_options.h"
#include "facemix/errors.h"
#include "facemix/image_io.h"
#include "facemix/latent_store.h"
#include "facemix/morph.h"
#include "facemix/output.h"
#include "facemix/pipeline.h"
#include "facemix/sequence.h"
#include "progress_bar.h"

namespace facemix::cli {
namespace {

const int kDefaultRefineSteps = IdentityRefineOptions{}.steps;

struct BlendArgs {
  std::vector<std::string> inputs;
  std::string output, weights, engine = "auto", model, landmarks_model, keep_aligned;
  int size = 1024;
  int face = 0;
  std::uint64_t seed = 0;
  std::int64_t max_pixels = ImageReadOptions{}.max_pixels;
  bool paste_back = false;
  int paste_into = 0;  // 1-based (CLI checks >= 1); 0 = not given
  int frames = 0;      // 0 = a single image
  double fps = 25.0;
  bool boomerang = false;
  std::string identity = "auto", identity_model, report;
  bool no_identity = false;
  int refine_steps = -1;  // -1: not given
  GanBlendArgs gan;
};

// The pipeline's request from the options, after the checks that concern
// the options themselves; the pipeline checks files.
BlendRequest make_request(const BlendArgs& a, const GlobalOptions& g) {
  BlendRequest r;
  const std::size_t n = a.inputs.size();
  if (n < 2)
    throw UsageError("need at least 2 input images to blend (got " + std::to_string(n) +
                     "); usage: facemix IMAGE IMAGE [IMAGE...] -o OUT");
  if (a.output.empty()) throw UsageError("-o OUT is required (an image, or with --frames a .gif, .mp4 or DIR/)");
  if (a.frames > 0 && !a.weights.empty())
    throw UsageError("-w and --frames exclude each other: a sequence runs through the inputs in order");
  r.weights = a.weights.empty() ? equal_weights(n) : parse_weights(a.weights, n);
  r.engine = choose_blend_engine(a.engine, a.model);
  if (r.engine.engine != BlendEngine::kGan) {
    for (const auto& in : a.inputs)
      if (is_latent_path(in)) throw UsageError(in + ": latent inputs need the GAN engine (--engine gan and a model)");
    const GanBlendArgs& gan = a.gan;
    const char* gan_only = !gan.mix.empty()                    ? "--mix"
                           : gan.truncation != 1.0             ? "--truncation"
                           : !gan.save_latents.empty()         ? "--save-latents"
                           : !gan.projection.schedule.empty()  ? "--schedule"
                           : !gan.projection.perceptual.empty() ? "--perceptual"
                           : gan.projection.space != "w"       ? "--space"
                                                               : nullptr;
    if (!gan_only && a.refine_steps > 0) gan_only = "--refine-steps";
    if (!gan_only && gan.identity_weight > 0) gan_only = "--identity-weight";
    if (gan_only) throw UsageError(std::string(gan_only) + " needs the GAN engine (--engine gan and a model)");
  }
  check_sequence_output(a.output, a.frames);
  if (a.paste_into > static_cast<int>(n))
    throw UsageError("--paste-into " + std::to_string(a.paste_into) + ": there are " + std::to_string(n) +
                     " inputs (1 = the first)");
  if (a.paste_into != 0 || a.paste_back) r.paste_target = a.paste_into != 0 ? a.paste_into - 1 : 0;

  r.inputs = a.inputs;
  r.output = a.output;
  r.size = a.size;
  r.face = a.face;
  r.landmarks_model = a.landmarks_model;
  r.read.max_pixels = a.max_pixels;
  r.frames = a.frames;
  r.boomerang = a.boomerang;
  r.fps = a.fps;
  r.keep_aligned = a.keep_aligned;
  r.overwrite = g.overwrite;
  if (!a.report.empty() && a.frames > 0) throw UsageError("--report describes a single blend; drop --frames");
  r.identity = resolve_identity_mode(a.no_identity ? "off" : a.identity, !a.weights.empty(),
                                     r.engine.engine == BlendEngine::kMorph && a.frames == 0, a.identity_model,
                                     r.identity_model);
  return r;
}

int run_blend_main(const BlendArgs& given, const GlobalOptions& g, CLI::App& app) {
  if (given.inputs.empty() && given.output.empty() && given.gan.latents.empty()) {
    std::cerr << app.help();
    return kExitUsage;
  }
  BlendArgs a = given;  // --latents files are inputs after the images
  for (const auto& l : split_latents_option(given.gan.latents)) a.inputs.push_back(l);
  BlendRequest request = make_request(a, g);
  if (request.engine.engine == BlendEngine::kGan) {
    request.gan = to_gan_settings(a.gan, a.seed);
    // --identity balance asks the GAN engine to steer for identity too; auto never does.
    const bool balance = !a.no_identity && a.identity == "balance" && a.frames == 0;
    request.gan.refine_steps = a.refine_steps >= 0 ? a.refine_steps : balance ? kDefaultRefineSteps : 0;
  }

  ProgressBar bar(g.progress_bar());
  BlendObserver observer;
  observer.progress = bar.callback();
  observer.written = [&bar](const std::string& path) {
    bar.finish();  // the bar's line first, then the result line
    std::cout << path << std::endl;
  };
  // The report is checked with the other outputs, before any work.
  const bool write_report =
      !a.report.empty() && prepare_output(a.report, request.inputs, g.overwrite) && a.report != a.output;
  const BlendResult result = run_blend(request, observer);
  if (result.skipped) {
    spdlog::info("{}: exists, skipped (-n)", a.output);
    return kExitOk;
  }
  if (write_report) {
    write_bytes_atomic(a.report, blend_report_json(request, result) + "\n");
    std::cout << a.report << std::endl;
  }
  return kExitOk;
}

Runner add_blend_main(CLI::App& app, const GlobalOptions& g) {
  auto a = std::make_shared<BlendArgs>();
  const char* io = "Blend";
  const char* engine = "Engine";
  const char* paste = "Paste-back";
  const char* sequence = "Sequence";
  app.add_option("images", a->inputs,
                 "Input photos, 2 or more (PNG, JPEG, WebP, BMP, TIFF); with the GAN engine also latent "
                 "files (.npz/.npy from facemix project or --save-latents)")
      ->group(io);
  app.add_option("-o,--output", a->output,
                 "Output: an image (.png .jpg .webp .bmp .tif), or with --frames a .gif, .mp4 or DIR/")
      ->group(io);
  app.add_option("-w,--weights", a->weights,
                 "Weight of each input, comma-separated (e.g. 0.7,0.3); normalised to sum 1; "
                 "default equal")
      ->group(io);
  app.add_option("--size", a->size, "Side of the aligned square face crop in pixels")
      ->check(CLI::Range(16, 4096))
      ->group(io);
  app.add_option("--face", a->face, "Which face of each input: 0 = largest, 1 = next, ...")
      ->check(CLI::NonNegativeNumber)
      ->group(io);
  add_max_pixels_option(app, a->max_pixels)->group(io);
  app.add_option("--keep-aligned", a->keep_aligned,
                 "Also save each input's aligned crop as DIR/<name>_aligned.png (GAN engine: and its "
                 "reconstruction, DIR/<name>_projected.png)")
      ->group(io);
  add_landmarks_model_option(app, a->landmarks_model)->group(io);

  app.add_option("--engine", a->engine,
                 "auto: the GAN engine when a model is found, else morph; morph: landmark morph "
                 "(no model needed); gan: StyleGAN2 projection and latent mixing (needs a model)")
      ->check(CLI::IsMember({"auto", "morph", "gan"}))
      ->group(engine);
  app.add_option("--model", a->model,
                 "StyleGAN2 model for the GAN engine (default: $FACEMIX_MODEL, then the models "
                 "directories)")
      ->group(engine);
  app.add_option("--seed", a->seed, "Random seed for the GAN engine (the morph engine is deterministic)")
      ->group(engine);
  add_gan_blend_options(app, a->gan);

  const char* identity = "Identity";
  app.add_option("--identity", a->identity,
                 "auto: balance the morph weights for identity when no -w is given and report the blend's "
                 "identity distances to every input, whenever the identity model is found; balance: always "
                 "balance (staying near -w; GAN engine: refine the latent, see --refine-steps); report: only report; off: no identity work (the model is not read)")
      ->check(CLI::IsMember({"auto", "balance", "report", "off"}))
      ->group(identity);
  app.add_flag("--no-identity", a->no_identity, "Same as --identity off")->group(identity);
  add_identity_model_option(app, a->identity_model)->group(identity);
  app.add_option("--refine-steps", a->refine_steps,
                 "GAN engine: refine the mixed latent for identity to every input for N Adam steps before "
                 "rendering (0 = off; default off, " + std::to_string(kDefaultRefineSteps) +
                     " with --identity balance)")
      ->check(CLI::Range(0, 10000))
      ->default_str("")
      ->group(identity);
  app.add_option("--report", a->report,
                 "Also write a JSON report: inputs, engine, settings, requested and chosen weights, identity "
                 "distances, timings")
      ->group(identity);

  app.add_flag("--paste-back", a->paste_back,
               "Composite the blended face into the first input's photo, at its full resolution")
      ->group(paste);
  app.add_option("--paste-into", a->paste_into, "Like --paste-back, into input N's photo (1 = the first)")
      ->check(CLI::Range(1, 100000))
      ->default_str("")  // unset by default: no "=0" in --help
      ->group(paste);

  auto* frames = app.add_option("--frames", a->frames,
                                "Render a morph sequence of N frames from the first input through "
                                "the others to the last")
                     ->check(CLI::Range(2, 100000))
                     ->default_str("")
                     ->group(sequence);
  app.add_option("--fps", a->fps, "Frames per second of a GIF or MP4 sequence")
      ->check(CLI::Range(0.1, 240.0))
      ->needs(frames)
      ->group(sequence);
  app.add_flag("--boomerang", a->boomerang, "Play the sequence there and back (loops smoothly)")
      ->needs(frames)
      ->group(sequence);
  return [a, &g, &app] { return run_blend_main(*a, g, app); };
}

const CommandRegistration reg{"", 0, &add_blend_main};

}  // namespace
}  // namespace facemix::cli
