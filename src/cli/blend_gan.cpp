#include "blend_gan.h"

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include <spdlog/spdlog.h>

#include "facemix/output.h"
#include "facemix/align.h"
#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/gan_blend.h"
#include "facemix/image_io.h"
#include "facemix/latent_mix.h"
#include "facemix/latent_store.h"
#include "facemix/model_file.h"
#include "facemix/paste_back.h"
#include "facemix/progress.h"
#include "facemix/projector.h"
#include "facemix/sha256.h"
#include "progress_bar.h"

namespace fs = std::filesystem;

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

namespace {

struct Outputs {
  std::vector<std::string> latent;          // per input: DIR/<name>.npz or ""
  std::vector<std::string> reconstruction;  // per input: DIR/<name>_projected.png or ""
};

// Decides (and checks) the per-input outputs of --save-latents and --keep-aligned.
Outputs plan_outputs(const GanBlendJob& job, const GanBlendArgs& args, const std::vector<bool>& is_photo,
                     const std::vector<std::string>& protected_inputs, Overwrite policy) {
  const size_t n = job.inputs.size();
  Outputs o{std::vector<std::string>(n), std::vector<std::string>(n)};
  if (!args.save_latents.empty()) ensure_output_directory(args.save_latents, "--save-latents");
  std::map<std::string, std::string> seen;
  auto claim = [&](const std::string& path, const std::string& input) {
    auto [it, fresh] = seen.emplace(path, input);
    if (!fresh) throw UsageError(input + " and " + it->second + " would both be saved as " + path);
    if (fs::weakly_canonical(path) == fs::weakly_canonical(job.output))
      throw UsageError(path + ": would overwrite the blend output");
    return prepare_output(path, protected_inputs, policy);
  };
  for (const auto& k : job.keep_outputs)
    if (!k.empty()) seen.emplace(k, "--keep-aligned");
  for (size_t i = 0; i < n; ++i) {
    if (!is_photo[i]) continue;
    const std::string& in = job.inputs[i];
    if (!args.save_latents.empty()) {
      const std::string npz = derived_output_path(in, args.save_latents, "", ".npz");
      const bool a = claim(npz, in), b = claim(latent_sidecar_path(npz), in);
      if (a && b) o.latent[i] = npz;
    }
    if (!job.keep_aligned.empty()) {
      const std::string rec = derived_output_path(in, job.keep_aligned, "_projected", ".png");
      if (claim(rec, in)) o.reconstruction[i] = rec;
    }
  }
  return o;
}

}  // namespace

int run_gan_blend(const GanBlendJob& job, const GanBlendArgs& args, const GlobalOptions& g) {
  const size_t n = job.inputs.size();
  const Generator gen = load_generator(job.model, parse_device(args.device));
  const GeneratorConfig& config = gen->config();
  const int R = config.img_resolution;
  if (config.img_channels != 3) throw ModelError(job.model + ": the GAN engine needs a 3-channel generator");

  ProjectionArgs pa = args.projection;
  pa.seed = job.seed;
  const ProjectorOptions options = to_projector_options(pa, R);
  spdlog::debug("projection settings: {}", to_json(options, R));
  std::vector<LayerMix> mixes;
  for (const auto& spec : args.mix) mixes.push_back(parse_layer_mix(spec, n));
  row_weights(gen->num_ws(), job.weights, mixes);  // checks the ranges now, before any work

  std::vector<bool> is_photo(n);
  bool any_latent = false, any_photo = false;
  for (size_t i = 0; i < n; ++i) {
    is_photo[i] = !is_latent_path(job.inputs[i]);
    any_latent = any_latent || !is_photo[i];
    any_photo = any_photo || is_photo[i];
  }
  if (job.paste_target >= 0 && !is_photo[static_cast<size_t>(job.paste_target)])
    throw UsageError("--paste-back/--paste-into: input " + std::to_string(job.paste_target + 1) +
                     " is a latent file, not a photo");
  std::vector<std::string> protected_inputs = job.inputs;
  protected_inputs.push_back(job.model);
  const Outputs outputs = plan_outputs(job, args, is_photo, protected_inputs, g.overwrite);
  bool save_any = false;
  for (const auto& l : outputs.latent) save_any = save_any || !l.empty();
  const std::string model_sha = any_latent || save_any ? sha256_file_hex(job.model) : "";

  // Latent inputs now: a foreign or broken latent fails before any projection.
  std::vector<torch::Tensor> ws(n);
  for (size_t i = 0; i < n; ++i)
    if (!is_photo[i]) ws[i] = load_latent_for_model(job.inputs[i], config, model_sha);

  ProgressBar bar(g.progress_bar());
  const ProgressCallback progress = bar.callback();
  std::unique_ptr<FaceDetector> detector;
  if (any_photo || job.paste_target >= 0) detector = std::make_unique<FaceDetector>(job.landmarks_model);
  std::vector<AlignedFace> aligned(n);
  cv::Mat target_photo;
  Landmarks target_photo_landmarks{};
  for (size_t i = 0; i < n; ++i) {
    if (!is_photo[i]) continue;
    check_interrupt();
    const cv::Mat photo = read_image(job.inputs[i]);
    const std::vector<Face> found = detector->detect(photo);  // select_face returns a reference into it
    const Face& face = select_face(found, job.face, job.inputs[i]);
    check_interrupt();
    aligned[i] = align_face(photo, face.landmarks, AlignOptions{R});
    if (static_cast<int>(i) == job.paste_target) target_photo = photo, target_photo_landmarks = face.landmarks;
    if (progress) progress({"align", static_cast<int>(i) + 1, static_cast<int>(n), -1.0});
  }
  auto at_size = [&](const cv::Mat& img) { return img.rows == job.size ? img : resize_antialias(img, {job.size, job.size}); };
  for (size_t i = 0; i < n; ++i) {
    if (i < job.keep_outputs.size() && !job.keep_outputs[i].empty() && is_photo[i]) {
      write_image(job.keep_outputs[i], at_size(aligned[i].image));
      std::cout << job.keep_outputs[i] << std::endl;
    }
  }

  // Projection of every photo, in one batch.
  std::vector<size_t> photo_index;
  std::vector<cv::Mat> faces;
  for (size_t i = 0; i < n; ++i)
    if (is_photo[i]) photo_index.push_back(i), faces.push_back(aligned[i].image);
  if (!faces.empty()) {
    spdlog::info("projecting {} face(s) into {} ({} space, schedule {}, {} loss)", faces.size(), job.model,
                 to_string(options.space), to_string(options.schedule),
                 options.perceptual_model.empty() ? "pixel" : "perceptual");
    const torch::Tensor targets = faces_to_targets(faces, R).to(gen->w_avg().device());
    ProjectorOptions seeded = options;  // each photo's own random stream: same photo, same latent
    for (size_t i : photo_index)
      seeded.image_seeds.push_back(
          image_projection_seed(options.seed, sha256_file_hex(job.inputs[i]) + "#" + std::to_string(job.face)));
    const ProjectionResult result = project(gen, targets, seeded, progress);
    for (size_t k = 0; k < photo_index.size(); ++k)
      ws[photo_index[k]] = result.ws.narrow(0, static_cast<int64_t>(k), 1).cpu();
  }
  LatentRecord rec;
  rec.model = fs::path(job.model).filename().string();
  rec.model_sha256 = model_sha;
  rec.num_ws = gen->num_ws();
  rec.w_dim = config.w_dim;
  rec.face = job.face;
  rec.projection_json = to_json(options, R);
  for (size_t i = 0; i < n; ++i) {
    check_interrupt();
    if (!outputs.latent[i].empty()) {
      rec.image = fs::path(job.inputs[i]).filename().string();
      rec.image_sha256 = sha256_file_hex(job.inputs[i]);
      save_latent(outputs.latent[i], ws[i], rec);
      std::cout << outputs.latent[i] << std::endl;
    }
    if (!outputs.reconstruction[i].empty()) {
      write_image(outputs.reconstruction[i], render_face(gen, ws[i], job.size));
      std::cout << outputs.reconstruction[i] << std::endl;
    }
  }

  // Mix, render, paste.
  const torch::Tensor all = torch::cat(ws, 0);
  Landmarks target_landmarks{};
  AlignmentPlan target_plan;
  if (job.paste_target >= 0) {
    const AlignedFace& t = aligned[static_cast<size_t>(job.paste_target)];
    const double scale = static_cast<double>(job.size) / R;
    for (size_t k = 0; k < t.landmarks.size(); ++k) target_landmarks[k] = t.landmarks[k] * scale;
    // The photo's alignment at the output size (the same quad, another crop side).
    target_plan = plan_ffhq_alignment(target_photo_landmarks, target_photo.size(), AlignOptions{job.size});
  }
  auto frame = [&](const std::vector<double>& weights) -> cv::Mat {
    check_interrupt();
    const torch::Tensor w = blend_latents(gen, all, row_weights(gen->num_ws(), weights, mixes), args.truncation);
    const cv::Mat face = render_face(gen, w, job.size);
    if (job.paste_target < 0) return face;
    return paste_back(target_photo, target_plan, face, blended_face_landmarks(*detector, face, target_landmarks));
  };
  if (!job.sequence) {
    write_image(job.output, frame(job.weights));
  } else {
    const std::vector<int> order = sequence_order(job.frames, job.boomerang);
    SequenceWriteOptions so;
    so.fps = job.fps;
    write_sequence(
        job.output, *job.sequence, static_cast<int>(order.size()),
        [&](int i) { return frame(sequence_weights(order[static_cast<size_t>(i)], job.frames, n)); }, so,
        progress);
  }
  bar.finish();
  std::cout << job.output << std::endl;
  return kExitOk;
}

}  // namespace facemix::cli
