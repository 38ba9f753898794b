// `facemix makeup REFERENCE PHOTO -o OUT`: puts the reference face's makeup on
// the photo's face (src/makeup/), as an image at the photo's resolution or a
// before -> after sequence (--frames).
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "input_options.h"
#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/image_io.h"
#include "facemix/makeup.h"
#include "facemix/output.h"
#include "facemix/progress.h"
#include "facemix/sequence.h"
#include "progress_bar.h"

namespace fs = std::filesystem;

namespace facemix::cli {
namespace {

struct MakeupArgs {
  std::string reference, photo, output, parts = "all", keep_aligned, landmarks_model;
  double amount = 1.0;
  int face = 0;
  int reference_face = -1;  // -1: same as --face
  int size = 1024;
  int frames = 0;
  double fps = 25.0;
  bool boomerang = false;
  std::int64_t max_pixels = ImageReadOptions{}.max_pixels;
};

struct MakeupPlan {
  MakeupOptions options;
  std::optional<SequenceFormat> sequence;
  std::string keep_before, keep_after;  // "" = not saved
};

// Everything decided from the command line, and every output checked, before
// any image is decoded. `skip`: the output exists and -n was given.
MakeupPlan plan_makeup(const MakeupArgs& a, const GlobalOptions& g, bool& skip) {
  MakeupPlan p;
  if (a.output.empty()) throw UsageError("makeup: -o OUT is required (an image, or with --frames a .gif, .mp4 or DIR/)");
  if (!(a.amount >= 0 && a.amount <= 1)) throw UsageError("--amount " + std::to_string(a.amount) + ": must be in 0..1");
  p.options.parts = parse_makeup_parts(a.parts);
  p.sequence = check_sequence_output(a.output, a.frames);
  const std::vector<std::string> inputs{a.reference, a.photo};
  skip = !(p.sequence ? prepare_sequence_output(a.output, *p.sequence, inputs, g.overwrite)
                      : prepare_output(a.output, inputs, g.overwrite));
  if (skip) return p;
  if (!a.keep_aligned.empty()) {
    ensure_output_directory(a.keep_aligned, "--keep-aligned");
    p.keep_before = derived_output_path(a.photo, a.keep_aligned, "_aligned", ".png");
    p.keep_after = derived_output_path(a.photo, a.keep_aligned, "_makeup", ".png");
    for (std::string* keep : {&p.keep_before, &p.keep_after}) {
      if (fs::weakly_canonical(*keep) == fs::weakly_canonical(a.output))
        throw UsageError(*keep + ": --keep-aligned would overwrite the output");
      if (!prepare_output(*keep, inputs, g.overwrite)) {
        spdlog::info("{}: exists, not saved again (-n)", *keep);
        keep->clear();
      }
    }
  }
  for (const auto& in : inputs) read_image_header_size(in);  // unreadable inputs fail now
  return p;
}

int run_makeup(const MakeupArgs& a, const GlobalOptions& g) {
  bool skip = false;
  const MakeupPlan plan = plan_makeup(a, g, skip);
  if (skip) {
    spdlog::info("{}: exists, skipped (-n)", a.output);
    return kExitOk;
  }
  ProgressBar bar(g.progress_bar());
  const ProgressCallback progress = bar.callback();
  const FaceDetector detector(a.landmarks_model);
  const ImageReadOptions read_options{a.max_pixels};
  const MakeupFace reference = load_makeup_face(detector, a.reference, a.reference_face >= 0 ? a.reference_face : a.face,
                                                a.size, read_options);
  if (progress) progress({"align", 1, 2, -1.0});
  const MakeupFace photo = load_makeup_face(detector, a.photo, a.face, a.size, read_options);
  if (progress) progress({"align", 2, 2, -1.0});
  check_interrupt();
  const AlignedMakeup makeup = transfer_makeup({reference.aligned.image, reference.aligned.landmarks},
                                               {photo.aligned.image, photo.aligned.landmarks}, plan.options);
  check_interrupt();

  if (!plan.keep_before.empty()) {
    write_image(plan.keep_before, makeup.before);
    std::cout << plan.keep_before << std::endl;
  }
  if (!plan.keep_after.empty()) {
    write_image(plan.keep_after, aligned_with_makeup(makeup, a.amount));
    std::cout << plan.keep_after << std::endl;
  }
  if (!plan.sequence) {
    write_image(a.output, paste_makeup(photo, makeup, a.amount));
  } else {
    // Frame i wears i/(N-1) of the amount: the photo first, the full look last.
    const std::vector<int> order = sequence_order(a.frames, a.boomerang);
    SequenceWriteOptions options;
    options.fps = a.fps;
    write_sequence(
        a.output, *plan.sequence, static_cast<int>(order.size()),
        [&](int i) { return paste_makeup(photo, makeup, a.amount * order[i] / (a.frames - 1)); }, options,
        progress);
  }
  bar.finish();
  std::cout << a.output << std::endl;
  return kExitOk;
}

Runner add_makeup_command(CLI::App& app, const GlobalOptions& g) {
  auto a = std::make_shared<MakeupArgs>();
  CLI::App* cmd = app.add_subcommand("makeup", "Put the makeup of a reference face on the face of a photo");
  cmd->footer(
      "Writes PHOTO at its own resolution wearing REFERENCE's makeup (lipstick, eye shadow and\n"
      "liner, foundation tone, blush); only the face changes, everything else keeps the photo's\n"
      "pixels. Both faces must be frontal. Method and figures: docs/makeup.md.\n"
      "Exit codes: 3 no usable (frontal) face in an input, 4 unreadable input or output exists.");
  const char* io = "Input/output";
  const char* look = "Makeup";
  const char* sequence = "Sequence";
  cmd->add_option("reference", a->reference, "Photo of the face whose makeup is copied")->required()->group(io);
  cmd->add_option("photo", a->photo, "Photo of the face that gets the makeup")->required()->group(io);
  cmd->add_option("-o,--output", a->output,
                  "Output: an image (.png .jpg .webp .bmp .tif), or with --frames a .gif, .mp4 or DIR/")
      ->group(io);
  cmd->add_option("--keep-aligned", a->keep_aligned,
                  "Also save the aligned before/after crops as DIR/<photo>_aligned.png and DIR/<photo>_makeup.png")
      ->group(io);
  cmd->add_option("--face", a->face, "Which face of each input: 0 = largest, 1 = next, ...")
      ->check(CLI::NonNegativeNumber)
      ->group(io);
  cmd->add_option("--reference-face", a->reference_face, "Which face of the reference (default: --face)")
      ->check(CLI::NonNegativeNumber)
      ->default_str("")
      ->group(io);
  cmd->add_option("--size", a->size, "Side of the aligned square crops the transfer works on")
      ->check(CLI::Range(128, 4096))
      ->group(io);
  add_max_pixels_option(*cmd, a->max_pixels)->group(io);
  add_landmarks_model_option(*cmd, a->landmarks_model)->group(io);
  cmd->add_option("--parts", a->parts, "Which makeup moves: comma-separated lips, eyes, skin, blush, or all")
      ->group(look);
  cmd->add_option("--amount", a->amount, "Strength, 0 (the photo unchanged) to 1 (the full look)")->group(look);
  auto* frames = cmd->add_option("--frames", a->frames, "Render a before -> after sequence of N frames")
                     ->check(CLI::Range(2, 100000))
                     ->default_str("")
                     ->group(sequence);
  cmd->add_option("--fps", a->fps, "Frames per second of a GIF or MP4 sequence")
      ->check(CLI::Range(0.1, 240.0))
      ->needs(frames)
      ->group(sequence);
  cmd->add_flag("--boomerang", a->boomerang, "Play the sequence there and back (loops smoothly)")
      ->needs(frames)
      ->group(sequence);
  return [a, &g] { return run_makeup(*a, g); };
}

const CommandRegistration reg{"makeup", 15, &add_makeup_command};

}  // namespace
}  // namespace facemix::cli
