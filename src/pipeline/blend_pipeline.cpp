// run_blend (include/facemix/pipeline.h): the checks every blend makes before
// any work, the engine choice, and the morph engine's run. The GAN engine's
// run is gan_pipeline.cpp.
#include <chrono>
#include <filesystem>
#include <map>

#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/identity.h"
#include "facemix/latent_store.h"
#include "facemix/model_file.h"
#include "facemix/morph.h"
#include "facemix/paste_back.h"
#include "facemix/pipeline.h"
#include "facemix/pipeline_stages.h"
#include "pipeline/run_parts.h"

namespace fs = std::filesystem;

namespace facemix {

EngineChoice choose_blend_engine(const std::string& requested, const std::string& model_option) {
  if (requested == "morph") return {BlendEngine::kMorph, "", ""};
  std::string model;
  try {
    model = find_model(model_option);
  } catch (const ModelError&) {
    if (requested == "gan") throw;
    return {BlendEngine::kMorph, "",
            "no GAN model found: blending with the landmark morph engine "
            "(to use the GAN engine, add a model as models/README.md explains)"};
  }
  if (!fs::is_regular_file(model))
    throw ModelError(model + ": no such model file (from --model or $FACEMIX_MODEL)");
  if (requested == "gan") return {BlendEngine::kGan, model, ""};
  return {BlendEngine::kGan, model,
          "blending with the GAN engine, model " + model +
              " (projection takes a few minutes on a CPU; --engine morph is instant)"};
}

namespace pipeline {

double StageClock::lap(std::vector<StageTiming>& timings, const std::string& stage) {
  const auto now = std::chrono::steady_clock::now();
  const double s = std::chrono::duration<double>(now - last_).count();
  last_ = now;
  timings.push_back({stage, s});
  spdlog::debug("{}: {:.3f} s", stage, s);
  return s;
}

void emit(const BlendObserver& observer, BlendResult& result, const std::string& path) {
  result.written.push_back(path);
  if (observer.written) observer.written(path);
}

std::vector<std::string> plan_keep_aligned(const BlendRequest& r) {
  std::vector<std::string> out;
  if (r.keep_aligned.empty()) return out;
  ensure_output_directory(r.keep_aligned, "--keep-aligned");
  std::map<std::string, std::string> seen;
  for (const auto& in : r.inputs) {
    if (is_latent_path(in)) {  // no photo, no crop
      out.emplace_back();
      continue;
    }
    const std::string path = derived_output_path(in, r.keep_aligned, "_aligned", ".png");
    auto [it, fresh] = seen.emplace(path, in);
    if (!fresh) throw UsageError("--keep-aligned: " + in + " and " + it->second + " would both be saved as " + path);
    out.push_back(path);
  }
  return out;
}

// The main output, then the aligned crops, then the inputs' headers: all
// before anything expensive. false: the main output exists and -n keeps it.
bool check_outputs(const BlendRequest& r, std::vector<std::string>& keep_outputs) {
  const std::optional<SequenceFormat> sequence =
      r.frames > 0 ? sequence_format_of(r.output) : std::optional<SequenceFormat>();
  const bool write = sequence ? prepare_sequence_output(r.output, *sequence, r.inputs, r.overwrite)
                              : prepare_output(r.output, r.inputs, r.overwrite);
  if (!write) return false;
  for (auto& out : keep_outputs) {
    if (out.empty()) continue;
    if (fs::weakly_canonical(out) == fs::weakly_canonical(r.output))
      throw UsageError(out + ": --keep-aligned would overwrite the blend output");
    if (!prepare_output(out, r.inputs, r.overwrite)) {
      spdlog::info("{}: exists, not saved again (-n)", out);
      out.clear();
    }
  }
  // Inputs: readable image headers now, not after minutes of work on the others.
  for (const auto& in : r.inputs) {
    if (!is_latent_path(in))
      read_image_header_size(in);
    else if (!fs::is_regular_file(in))
      throw ModelError(in + ": no such latent file");
  }
  return true;
}

namespace {

BlendResult run_morph(const BlendRequest& r, const std::vector<std::string>& keep_outputs,
                      const BlendObserver& observer) {
  BlendResult result;
  StageClock clock;
  const FaceDetector detector(r.landmarks_model);
  clock.lap(result.timings, "load");
  // Identity figures are made for a single image only: a sequence needs no model.
  std::optional<IdentityModel> identity;
  if (r.identity != IdentityMode::kOff && r.frames == 0) identity = load_identity_model(r.identity_model);
  const std::size_t n = r.inputs.size();
  std::vector<AlignedFace> aligned;
  std::vector<Descriptor> descriptors;
  std::vector<cv::Mat> photos(n);  // kept only for the paste-back target
  for (std::size_t i = 0; i < n; ++i) {
    LocatedFace located = locate_face(detector, r.inputs[i], r.face, r.read);
    if (identity) descriptors.push_back(describe_located(*identity, located));
    aligned.push_back(align_face(located.photo, located.face.landmarks, AlignOptions{r.size}));
    if (static_cast<int>(i) == r.paste_target) photos[i] = located.photo;
    if (observer.progress) observer.progress({"align", static_cast<int>(i) + 1, static_cast<int>(n), -1.0});
  }
  clock.lap(result.timings, "detect+align");
  for (std::size_t i = 0; i < keep_outputs.size(); ++i) {
    if (keep_outputs[i].empty()) continue;
    write_image(keep_outputs[i], aligned[i].image);
    emit(observer, result, keep_outputs[i]);
  }

  if (r.frames == 0) {
    result.weights = r.weights;
    MorphBlend blend = render_morph_blend(aligned, r.weights, photos, r.paste_target,
                                          identity ? &*identity : nullptr, descriptors,
                                          r.identity == IdentityMode::kBalance);
    result.mix = blend.mix;
    result.identity = blend.identity;
    if (result.identity) spdlog::info("{}", identity_summary(*result.identity, r.inputs));
    write_image(r.output, blend.image);
  } else {
    std::vector<MorphFace> faces;
    for (const auto& f : aligned) faces.push_back({f.image, f.landmarks});
    const Morpher morpher(faces);
    const std::vector<int> order = sequence_order(r.frames, r.boomerang);
    auto frame = [&](int i) {
      const MorphResult m = morpher.render(sequence_weights(order[static_cast<std::size_t>(i)], r.frames, n));
      if (r.paste_target < 0) return m.image;
      const std::size_t t = static_cast<std::size_t>(r.paste_target);
      return paste_back(photos[t], aligned[t].alignment, m.image, m.landmarks);
    };
    SequenceWriteOptions options;
    options.fps = r.fps;
    write_sequence(r.output, *sequence_format_of(r.output), static_cast<int>(order.size()), frame, options,
                   observer.progress);
  }
  clock.lap(result.timings, "render+write");
  emit(observer, result, r.output);
  return result;
}

}  // namespace
}  // namespace pipeline

BlendResult run_blend(const BlendRequest& request, const BlendObserver& observer) {
  if (request.inputs.size() < 2 || request.weights.size() != request.inputs.size())
    throw std::invalid_argument("run_blend: needs >= 2 inputs and one weight per input");
  std::vector<std::string> keep_outputs = pipeline::plan_keep_aligned(request);
  if (!pipeline::check_outputs(request, keep_outputs)) {
    BlendResult skipped;
    skipped.skipped = true;
    return skipped;
  }
  if (!request.engine.notice.empty()) spdlog::info("{}", request.engine.notice);
  if (request.engine.engine == BlendEngine::kGan) return pipeline::run_gan(request, keep_outputs, observer);
  return pipeline::run_morph(request, keep_outputs, observer);
}

}  // namespace facemix
