// The GAN engine's run of run_blend (include/facemix/pipeline.h): model and
// latent inputs checked first, then the photos aligned at the model's
// resolution and projected in one batch, mixed, rendered and pasted back.
#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>

#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/gan_blend.h"
#include "facemix/latent_mix.h"
#include "facemix/latent_store.h"
#include "facemix/model_file.h"
#include "facemix/pipeline_stages.h"
#include "facemix/sha256.h"
#include "pipeline/run_parts.h"

namespace fs = std::filesystem;

namespace facemix::pipeline {
namespace {

struct GanOutputs {
  std::vector<std::string> latent;          // per input: DIR/<name>.npz or ""
  std::vector<std::string> reconstruction;  // per input: DIR/<name>_projected.png or ""
};

// Decides (and checks) the per-input outputs of --save-latents and --keep-aligned.
GanOutputs plan_gan_outputs(const BlendRequest& r, const std::vector<std::string>& keep_outputs,
                            const std::vector<bool>& is_photo, const std::vector<std::string>& protected_inputs) {
  const std::size_t n = r.inputs.size();
  GanOutputs o{std::vector<std::string>(n), std::vector<std::string>(n)};
  const std::string& save_latents = r.gan.save_latents;
  if (!save_latents.empty()) ensure_output_directory(save_latents, "--save-latents");
  std::map<std::string, std::string> seen;
  auto claim = [&](const std::string& path, const std::string& input) {
    auto [it, fresh] = seen.emplace(path, input);
    if (!fresh) throw UsageError(input + " and " + it->second + " would both be saved as " + path);
    if (fs::weakly_canonical(path) == fs::weakly_canonical(r.output))
      throw UsageError(path + ": would overwrite the blend output");
    return prepare_output(path, protected_inputs, r.overwrite);
  };
  for (const auto& k : keep_outputs)
    if (!k.empty()) seen.emplace(k, "--keep-aligned");
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_photo[i]) continue;
    const std::string& in = r.inputs[i];
    if (!save_latents.empty()) {
      const std::string npz = derived_output_path(in, save_latents, "", ".npz");
      const bool a = claim(npz, in), b = claim(latent_sidecar_path(npz), in);
      if (a && b) o.latent[i] = npz;
    }
    if (!r.keep_aligned.empty()) {
      const std::string rec = derived_output_path(in, r.keep_aligned, "_projected", ".png");
      if (claim(rec, in)) o.reconstruction[i] = rec;
    }
  }
  return o;
}

}  // namespace

BlendResult run_gan(const BlendRequest& r, const std::vector<std::string>& keep_outputs,
                    const BlendObserver& observer) {
  BlendResult result;
  StageClock clock;
  const std::size_t n = r.inputs.size();
  const std::string& model = r.engine.model;
  const Generator gen = load_generator(model, parse_device(r.gan.device));
  const GeneratorConfig& config = gen->config();
  const int R = config.img_resolution;
  if (config.img_channels != 3) throw ModelError(model + ": the GAN engine needs a 3-channel generator");
  ProjectorOptions options = r.gan.projection;
  options.schedule = r.gan.schedule.empty() ? default_schedule(R) : parse_schedule(r.gan.schedule, R);
  spdlog::debug("projection settings: {}", to_json(options, R));
  std::vector<LayerMix> mixes;
  for (const auto& spec : r.gan.mix) mixes.push_back(parse_layer_mix(spec, n));
  row_weights(gen->num_ws(), r.weights, mixes);  // checks the ranges now, before any work

  std::vector<bool> is_photo(n);
  bool any_latent = false, any_photo = false;
  for (std::size_t i = 0; i < n; ++i) {
    is_photo[i] = !is_latent_path(r.inputs[i]);
    any_latent = any_latent || !is_photo[i];
    any_photo = any_photo || is_photo[i];
  }
  if (r.paste_target >= 0 && !is_photo[static_cast<std::size_t>(r.paste_target)])
    throw UsageError("--paste-back/--paste-into: input " + std::to_string(r.paste_target + 1) +
                     " is a latent file, not a photo");
  // The identity options need every input's descriptor, which only a single
  // image of photos has, and the identity network runs on the CPU.
  const char* identity_refused = r.frames > 0                       ? "works on a single blend; drop --frames"
                                 : any_latent                       ? "needs a photo for every input (latent files have no identity)"
                                 : r.identity == IdentityMode::kOff ? "needs the identity model (identity is off)"
                                 : !gen->w_avg().device().is_cpu()  ? "runs on the CPU only (--device cpu)"
                                                                    : nullptr;
  for (const auto& [option, used] : {std::pair{"--identity-weight", options.identity_weight > 0},
                                     std::pair{"--refine-steps", r.gan.refine_steps > 0}})
    if (used && identity_refused) throw UsageError(std::string(option) + " " + identity_refused);
  std::vector<std::string> protected_inputs = r.inputs;
  protected_inputs.push_back(model);
  const GanOutputs outputs = plan_gan_outputs(r, keep_outputs, is_photo, protected_inputs);
  bool save_any = false;
  for (const auto& l : outputs.latent) save_any = save_any || !l.empty();
  const std::string model_sha = any_latent || save_any ? sha256_file_hex(model) : "";

  // Latent inputs now: a foreign or broken latent fails before any projection.
  std::vector<torch::Tensor> ws(n);
  for (std::size_t i = 0; i < n; ++i)
    if (!is_photo[i]) ws[i] = load_latent_for_model(r.inputs[i], config, model_sha);
  std::unique_ptr<FaceDetector> detector;
  if (any_photo) detector = std::make_unique<FaceDetector>(r.landmarks_model);
  clock.lap(result.timings, "load");

  // Identity figures need every input's photo (latent inputs have none) and a
  // single image (a sequence gets none).
  std::optional<IdentityModel> identity;
  if (r.identity != IdentityMode::kOff && !any_latent && r.frames == 0)
    identity = load_identity_model(r.identity_model);
  std::vector<Descriptor> descriptors;
  std::vector<AlignedFace> aligned(n);
  std::optional<PasteTarget> paste;
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_photo[i]) continue;
    const LocatedFace located = locate_face(*detector, r.inputs[i], r.face, r.read);
    if (identity) descriptors.push_back(describe_located(*identity, located));
    const AlignedFace crop = align_face(located.photo, located.face.landmarks, AlignOptions{R});
    aligned[i] = crop;
    if (static_cast<int>(i) == r.paste_target) {
      paste = gan_paste_target(located.photo, located.face.landmarks, r.size);
      // The main form's mask fallback has always been the crop's landmarks
      // scaled from R to the output size (batch maps them exactly); kept so
      // that outputs stay byte-identical. They differ by under a pixel.
      const double scale = static_cast<double>(r.size) / R;
      for (std::size_t k = 0; k < crop.landmarks.size(); ++k) paste->crop_landmarks[k] = crop.landmarks[k] * scale;
    }
    if (observer.progress) observer.progress({"align", static_cast<int>(i) + 1, static_cast<int>(n), -1.0});
  }
  for (std::size_t i = 0; i < keep_outputs.size(); ++i) {
    if (keep_outputs[i].empty() || !is_photo[i]) continue;
    const cv::Mat& crop = aligned[i].image;
    write_image(keep_outputs[i], crop.rows == r.size ? crop : resize_antialias(crop, {r.size, r.size}));
    emit(observer, result, keep_outputs[i]);
  }
  clock.lap(result.timings, "detect+align");

  // Projection of every photo, in one batch.
  std::vector<std::size_t> photo_index;
  std::vector<cv::Mat> faces;
  std::vector<std::string> seed_keys;
  for (std::size_t i = 0; i < n; ++i)
    if (is_photo[i]) {
      photo_index.push_back(i);
      faces.push_back(aligned[i].image);
      seed_keys.push_back(photo_seed_key(r.inputs[i], r.face));
    }
  if (options.identity_weight > 0) {  // every input is a photo here, in order
    options.identity_model = &*identity;
    options.identity_targets = descriptors;
    for (const AlignedFace& a : aligned) options.identity_chips.push_back(chip_placement(a.landmarks, R));
  }
  if (!faces.empty()) {
    spdlog::info("projecting {} face(s) into {} ({} space, schedule {}, {} loss)", faces.size(), model,
                 to_string(options.space), to_string(options.schedule),
                 options.perceptual_model.empty() ? "pixel" : "perceptual");
    const std::vector<torch::Tensor> projected = project_photos(gen, faces, options, seed_keys, observer.progress);
    for (std::size_t k = 0; k < photo_index.size(); ++k) ws[photo_index[k]] = projected[k];
  }
  LatentRecord rec = latent_record(model, model_sha, gen, r.face, options);
  for (std::size_t i = 0; i < n; ++i) {
    check_interrupt();
    if (!outputs.latent[i].empty()) {
      rec.image = fs::path(r.inputs[i]).filename().string();
      rec.image_sha256 = sha256_file_hex(r.inputs[i]);
      save_latent(outputs.latent[i], ws[i], rec);
      emit(observer, result, outputs.latent[i]);
    }
    if (!outputs.reconstruction[i].empty()) {
      write_image(outputs.reconstruction[i], render_face(gen, ws[i], r.size));
      emit(observer, result, outputs.reconstruction[i]);
    }
  }
  clock.lap(result.timings, "project");

  // Mix, render, paste.
  const torch::Tensor all = torch::cat(ws, 0);
  auto render = [&](const std::vector<double>& weights) {
    return render_gan_blend(gen, all, row_weights(gen->num_ws(), weights, mixes), r.gan.truncation, r.size);
  };
  auto pasted = [&](const cv::Mat& face) { return paste ? paste_rendered_face(*detector, *paste, face) : face; };
  auto frame = [&](const std::vector<double>& weights) { return pasted(render(weights)); };
  if (r.frames == 0) {
    result.weights = r.weights;
    cv::Mat face;
    if (r.gan.refine_steps > 0) {
      const RowWeights rows = row_weights(gen->num_ws(), r.weights, mixes);
      result.refinement = refine_gan_blend(gen, all, rows, r.gan.truncation, *identity, descriptors, aligned,
                                           r.weights, r.gan.refine_steps, observer.progress);
      const IdentityRefinement& f = *result.refinement;
      spdlog::info("identity refinement: {} steps at {} px in {:.1f} s, largest chip distance {:.3f} -> {:.3f}",
                   r.gan.refine_steps, f.render_resolution, f.seconds,
                   *std::max_element(f.initial_distances.begin(), f.initial_distances.end()),
                   *std::max_element(f.final_distances.begin(), f.final_distances.end()));
      face = render_face(gen, f.w, r.size);
    } else {
      face = render(r.weights);
    }
    if (identity) {
      result.identity = gan_blend_identity(*identity, *detector, face, descriptors);
      if (result.identity) spdlog::info("{}", identity_summary(*result.identity, r.inputs));
    }
    write_image(r.output, pasted(face));
  } else {
    const std::vector<int> order = sequence_order(r.frames, r.boomerang);
    SequenceWriteOptions so;
    so.fps = r.fps;
    write_sequence(
        r.output, *sequence_format_of(r.output), static_cast<int>(order.size()),
        [&](int i) { return frame(sequence_weights(order[static_cast<std::size_t>(i)], r.frames, n)); }, so,
        observer.progress);
  }
  clock.lap(result.timings, "render+write");
  emit(observer, result, r.output);
  return result;
}

}  // namespace facemix::pipeline
