// The main form: `facemix IMAGE IMAGE [IMAGE...] -o OUT` blends the faces of
// the inputs into one face (an image), or renders a sequence through them
// (--frames: GIF, MP4 or a PNG directory), with the morph or the GAN engine
// (blend_gan.cpp).
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "blend_gan.h"
#include "commands.h"
#include "facemix/output.h"
#include "facemix/align.h"
#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/image_io.h"
#include "facemix/latent_store.h"
#include "facemix/model_file.h"
#include "facemix/morph.h"
#include "facemix/paste_back.h"
#include "facemix/progress.h"
#include "facemix/sequence.h"
#include "progress_bar.h"

namespace fs = std::filesystem;

namespace facemix::cli {
namespace {

struct BlendArgs {
  std::vector<std::string> inputs;
  std::string output, weights, engine = "auto", model, landmarks_model, keep_aligned;
  int size = 1024;
  int face = 0;
  std::uint64_t seed = 0;
  bool paste_back = false;
  int paste_into = 0;  // 1-based (CLI checks >= 1); 0 = not given
  int frames = 0;      // 0 = a single image
  double fps = 25.0;
  bool boomerang = false;
  GanBlendArgs gan;
};

enum class Engine { kMorph, kGan };

struct EngineChoice {
  Engine engine;
  std::string notice;  // one line for the user, or empty
  std::string model;   // the GAN engine's model file
};

// The one place that decides which engine renders: "gan" needs a model,
// "auto" uses the GAN engine when a model is found and morphs otherwise.
EngineChoice choose_engine(const std::string& requested, const std::string& model_option) {
  if (requested == "morph") return {Engine::kMorph, "", ""};
  std::string model;
  try {
    model = find_model(model_option);
  } catch (const ModelError&) {
    if (requested == "gan") throw;
    return {Engine::kMorph,
            "no GAN model found: blending with the landmark morph engine "
            "(to use the GAN engine, add a model as models/README.md explains)", ""};
  }
  // --model and $FACEMIX_MODEL come back unchecked: a typo there is an error,
  // not a silent fallback.
  if (!fs::is_regular_file(model))
    throw ModelError(model + ": no such model file (from --model or $FACEMIX_MODEL)");
  if (requested == "gan") return {Engine::kGan, "", model};
  return {Engine::kGan,
          "blending with the GAN engine, model " + model +
              " (projection takes a few minutes on a CPU; --engine morph is instant)",
          model};
}

// Everything decided from the command line before any image is read.
struct BlendPlan {
  std::vector<double> weights;
  EngineChoice engine;
  std::optional<SequenceFormat> sequence;
  int paste_target = -1;  // 0-based input index, -1 = no paste-back
  std::vector<std::string> keep_outputs;  // "" where skipped (-n)
};

BlendPlan plan_blend(const BlendArgs& a, const GlobalOptions& g, bool& skip) {
  BlendPlan p;
  const std::size_t n = a.inputs.size();
  if (n < 2)
    throw UsageError("need at least 2 input images to blend (got " + std::to_string(n) +
                     "); usage: facemix IMAGE IMAGE [IMAGE...] -o OUT");
  if (a.output.empty()) throw UsageError("-o OUT is required (an image, or with --frames a .gif, .mp4 or DIR/)");
  if (a.frames > 0 && !a.weights.empty())
    throw UsageError("-w and --frames exclude each other: a sequence runs through the inputs in order");
  p.weights = a.weights.empty() ? equal_weights(n) : parse_weights(a.weights, n);
  p.engine = choose_engine(a.engine, a.model);
  if (p.engine.engine != Engine::kGan) {
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
    if (gan_only) throw UsageError(std::string(gan_only) + " needs the GAN engine (--engine gan and a model)");
  }

  p.sequence = check_sequence_output(a.output, a.frames);

  if (a.paste_into > static_cast<int>(n))
    throw UsageError("--paste-into " + std::to_string(a.paste_into) + ": there are " + std::to_string(n) +
                     " inputs (1 = the first)");
  if (a.paste_into != 0 || a.paste_back) p.paste_target = a.paste_into != 0 ? a.paste_into - 1 : 0;

  if (!a.keep_aligned.empty()) {
    ensure_output_directory(a.keep_aligned, "--keep-aligned");
    std::map<std::string, std::string> seen;
    for (const auto& in : a.inputs) {
      if (is_latent_path(in)) {  // no photo, no crop
        p.keep_outputs.emplace_back();
        continue;
      }
      const std::string out = derived_output_path(in, a.keep_aligned, "_aligned", ".png");
      auto [it, fresh] = seen.emplace(out, in);
      if (!fresh)
        throw UsageError("--keep-aligned: " + in + " and " + it->second + " would both be saved as " + out);
      p.keep_outputs.push_back(out);
    }
  }

  // Outputs are checked before anything expensive happens.
  skip = !(p.sequence ? prepare_sequence_output(a.output, *p.sequence, a.inputs, g.overwrite)
                      : prepare_output(a.output, a.inputs, g.overwrite));
  if (skip) return p;
  for (auto& out : p.keep_outputs) {
    if (out.empty()) continue;
    if (fs::weakly_canonical(out) == fs::weakly_canonical(a.output))
      throw UsageError(out + ": --keep-aligned would overwrite the blend output");
    if (!prepare_output(out, a.inputs, g.overwrite)) {
      spdlog::info("{}: exists, not saved again (-n)", out);
      out.clear();
    }
  }
  // Inputs: readable image headers now, not after minutes of work on the others.
  for (const auto& in : a.inputs) {
    if (!is_latent_path(in))
      read_image_header_size(in);
    else if (!fs::is_regular_file(in))
      throw ModelError(in + ": no such latent file");
  }
  return p;
}

struct Input {
  cv::Mat photo;  // kept only for the paste-back target
  AlignedFace aligned;
};

// The GAN engine's share of the run (blend_gan.cpp).
int run_gan(const BlendArgs& a, const BlendPlan& plan, const GlobalOptions& g) {
  GanBlendJob job;
  job.inputs = a.inputs;
  job.model = plan.engine.model;
  job.output = a.output;
  job.weights = plan.weights;
  job.size = a.size;
  job.face = a.face;
  job.seed = a.seed;
  job.landmarks_model = a.landmarks_model;
  job.keep_aligned = a.keep_aligned;
  job.keep_outputs = plan.keep_outputs;
  job.paste_target = plan.paste_target;
  job.sequence = plan.sequence;
  job.frames = a.frames;
  job.boomerang = a.boomerang;
  job.fps = a.fps;
  return run_gan_blend(job, a.gan, g);
}

int run_blend(const BlendArgs& given, const GlobalOptions& g, CLI::App& app) {
  if (given.inputs.empty() && given.output.empty() && given.gan.latents.empty()) {
    std::cerr << app.help();
    return kExitUsage;
  }
  BlendArgs a = given;  // --latents files are inputs after the images
  for (const auto& l : split_latents_option(given.gan.latents)) a.inputs.push_back(l);
  bool skip = false;
  const BlendPlan plan = plan_blend(a, g, skip);
  if (skip) {
    spdlog::info("{}: exists, skipped (-n)", a.output);
    return kExitOk;
  }
  if (!plan.engine.notice.empty()) spdlog::info("{}", plan.engine.notice);
  if (plan.engine.engine == Engine::kGan) return run_gan(a, plan, g);

  ProgressBar bar(g.progress_bar());
  const ProgressCallback progress = bar.callback();
  const FaceDetector detector(a.landmarks_model);
  AlignOptions align_options;
  align_options.output_size = a.size;
  std::vector<Input> inputs(a.inputs.size());
  for (std::size_t i = 0; i < a.inputs.size(); ++i) {
    check_interrupt();
    const std::string& in = a.inputs[i];
    cv::Mat photo = read_image(in);
    const std::vector<Face> found = detector.detect(photo);
    const Face& face = select_face(found, a.face, in);
    check_interrupt();
    inputs[i].aligned = align_face(photo, face.landmarks, align_options);
    if (static_cast<int>(i) == plan.paste_target) inputs[i].photo = photo;
    if (progress) progress({"align", static_cast<int>(i) + 1, static_cast<int>(a.inputs.size()), -1.0});
  }
  for (std::size_t i = 0; i < plan.keep_outputs.size(); ++i) {
    if (plan.keep_outputs[i].empty()) continue;
    write_image(plan.keep_outputs[i], inputs[i].aligned.image);
    std::cout << plan.keep_outputs[i] << std::endl;
  }

  std::vector<MorphFace> faces;
  for (const auto& in : inputs) faces.push_back({in.aligned.image, in.aligned.landmarks});
  // The blended face, pasted into the target photo when asked.
  auto finish = [&](const MorphResult& r) -> cv::Mat {
    if (plan.paste_target < 0) return r.image;
    const Input& t = inputs[static_cast<std::size_t>(plan.paste_target)];
    return paste_back(t.photo, t.aligned.alignment, r.image, r.landmarks);
  };

  if (!plan.sequence) {
    check_interrupt();
    write_image(a.output, finish(morph_faces(faces, plan.weights)));
  } else {
    const Morpher morpher(faces);
    const std::vector<int> order = sequence_order(a.frames, a.boomerang);
    SequenceWriteOptions options;
    options.fps = a.fps;
    write_sequence(
        a.output, *plan.sequence, static_cast<int>(order.size()),
        [&](int i) { return finish(morpher.render(sequence_weights(order[i], a.frames, faces.size()))); },
        options, progress);
  }
  bar.finish();
  std::cout << a.output << std::endl;
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
  app.add_option("--keep-aligned", a->keep_aligned,
                 "Also save each input's aligned crop as DIR/<name>_aligned.png (GAN engine: and its "
                 "reconstruction, DIR/<name>_projected.png)")
      ->group(io);
  app.add_option("--landmarks-model", a->landmarks_model,
                 "dlib 68-point shape predictor (default: $FACEMIX_LANDMARKS, then "
                 "/usr/share/dlib/shape_predictor_68_face_landmarks.dat)")
      ->group(io);

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
  return [a, &g, &app] { return run_blend(*a, g, app); };
}

const CommandRegistration reg{"", 0, &add_blend_main};

}  // namespace
}  // namespace facemix::cli
