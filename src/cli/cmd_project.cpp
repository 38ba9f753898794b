// facemix project: find each photo's latent in the generator's space and save
// it (DIR/<name>.npz + DIR/<name>.json) with its reconstruction
// (DIR/<name>_projected.png). All inputs are projected together in one batch.
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "commands.h"
#include "input_options.h"
#include "facemix/output.h"
#include "facemix/align.h"
#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/gan_blend.h"
#include "facemix/image_io.h"
#include "facemix/latent_store.h"
#include "facemix/model_file.h"
#include "facemix/pipeline_stages.h"
#include "facemix/progress.h"
#include "facemix/projector.h"
#include "facemix/sha256.h"
#include "memory_guard.h"
#include "progress_bar.h"
#include "projection_options.h"

namespace fs = std::filesystem;

namespace facemix::cli {
namespace {

struct ProjectArgs {
  std::vector<std::string> inputs;
  std::string out_dir, model, device = "cpu", landmarks_model;
  int face = 0;
  bool aligned = false;
  ProjectionArgs projection;
};

struct Job {
  std::string input, latent, image;  // output paths; "" = skipped (-n)
  cv::Mat face;                      // aligned at the model's resolution
};

int run_project(const ProjectArgs& a, const GlobalOptions& g) {
  if (a.inputs.empty()) throw UsageError("project: give one or more input images");
  if (a.out_dir.empty()) throw UsageError("project: --out-dir DIR is required");
  ensure_output_directory(a.out_dir, "--out-dir");
  const std::string model_path = find_model(a.model);
  std::vector<std::string> protected_inputs = a.inputs;
  protected_inputs.push_back(model_path);

  // Outputs first: every name decided and checked before any work.
  std::vector<Job> jobs;
  std::map<std::string, std::string> seen;
  for (const auto& in : a.inputs) {
    Job j;
    j.input = in;
    j.latent = derived_output_path(in, a.out_dir, "", ".npz");
    j.image = derived_output_path(in, a.out_dir, "_projected", ".png");
    auto [it, fresh] = seen.emplace(j.latent, in);
    if (!fresh) throw UsageError(in + " and " + it->second + " would both be saved as " + j.latent);
    const bool want_latent = prepare_output(j.latent, protected_inputs, g.overwrite) &&
                             prepare_output(latent_sidecar_path(j.latent), protected_inputs, g.overwrite);
    const bool want_image = prepare_output(j.image, protected_inputs, g.overwrite);
    if (!want_latent && !want_image) {
      spdlog::info("{}: outputs exist, skipped (-n)", in);
      continue;
    }
    if (!want_latent) j.latent.clear();
    if (!want_image) j.image.clear();
    jobs.push_back(j);
  }
  if (jobs.empty()) return kExitOk;

  const Generator gen = load_generator(model_path, parse_device(a.device));
  const int R = gen->config().img_resolution;
  if (gen->config().img_channels != 3) throw ModelError(model_path + ": projection needs a 3-channel generator");
  const ProjectorOptions options = to_projector_options(a.projection, R);
  // All inputs are projected in one batch: refuse a batch that cannot fit before reading any photo.
  check_memory_estimate(static_cast<double>(jobs.size()) * projection_bytes_per_image(gen->config()),
                        "projecting " + std::to_string(jobs.size()) + " images together at " + std::to_string(R) +
                            "x" + std::to_string(R),
                        "project fewer images per run");

  // Faces: a failing input is reported and skipped; the exit code is the first failure's.
  int exit_code = kExitOk;
  {
    std::unique_ptr<FaceDetector> detector;
    if (!a.aligned) detector = std::make_unique<FaceDetector>(a.landmarks_model);
    std::vector<Job> ok;
    for (auto& j : jobs) {
      check_interrupt();
      try {
        if (a.aligned) {
          j.face = read_image(j.input);
          if (j.face.rows != j.face.cols) throw UsageError(j.input + ": --aligned input is not square");
        } else {
          const LocatedFace f = locate_face(*detector, j.input, a.face);
          j.face = align_face(f.photo, f.face.landmarks, AlignOptions{R}).image;
        }
        ok.push_back(j);
      } catch (const Interrupted&) {
        throw;
      } catch (const Error& e) {
        spdlog::error("{}", e.what());
        if (exit_code == kExitOk) exit_code = e.exit_code();
      }
    }
    jobs = ok;
  }
  if (jobs.empty()) return exit_code;

  std::vector<cv::Mat> faces;
  std::vector<std::string> seed_keys;
  for (const auto& j : jobs) {
    faces.push_back(j.face);
    seed_keys.push_back(photo_seed_key(j.input, a.face));
  }
  spdlog::info("projecting {} face(s) into {} ({} space, schedule {}, {} loss)", jobs.size(), model_path,
               to_string(options.space), to_string(options.schedule),
               options.perceptual_model.empty() ? "pixel" : "perceptual");
  std::vector<torch::Tensor> ws;
  {
    ProgressBar bar(g.progress_bar());
    ws = project_photos(gen, faces, options, seed_keys, bar.callback());
  }

  LatentRecord rec = latent_record(model_path, sha256_file_hex(model_path), gen, a.face, options);
  for (size_t i = 0; i < jobs.size(); ++i) {
    check_interrupt();
    if (!jobs[i].latent.empty()) {
      rec.image = fs::path(jobs[i].input).filename().string();
      rec.image_sha256 = sha256_file_hex(jobs[i].input);
      save_latent(jobs[i].latent, ws[i], rec);
      std::cout << jobs[i].latent << std::endl;
    }
    if (!jobs[i].image.empty()) {
      write_image(jobs[i].image, render_face(gen, ws[i], R));
      std::cout << jobs[i].image << std::endl;
    }
  }
  return exit_code;
}

Runner add_project_command(CLI::App& app, const GlobalOptions& g) {
  auto a = std::make_shared<ProjectArgs>();
  CLI::App* cmd = app.add_subcommand("project", "Find each face's latent in a StyleGAN2 generator (GAN inversion)");
  cmd->footer(
      "Writes DIR/<name>.npz (key w: float32 [1, num_ws, w_dim]), DIR/<name>.json (image and model\n"
      "hashes, projection settings) and DIR/<name>_projected.png (the reconstruction). The .npz files\n"
      "can be blended later without projecting again: facemix a.npz b.npz -o blend.png --engine gan.\n"
      "Example: facemix project a.jpg b.jpg --out-dir latents/ --space wplus");
  const char* io = "Input/output";
  cmd->add_option("images", a->inputs, "Input photos (or aligned crops with --aligned)")->required()->group(io);
  cmd->add_option("--out-dir", a->out_dir, "Existing directory for the latents and reconstructions")
      ->required()
      ->group(io);
  cmd->add_option("--face", a->face, "Which face of each photo: 0 = largest, 1 = next, ...")
      ->check(CLI::NonNegativeNumber)
      ->group(io);
  cmd->add_flag("--aligned", a->aligned, "Inputs are FFHQ-aligned square crops already: no detection")->group(io);
  add_landmarks_model_option(*cmd, a->landmarks_model)->group(io);
  const char* model = "Model";
  cmd->add_option("--model", a->model, "StyleGAN2 model (default: $FACEMIX_MODEL, then the models directories)")
      ->group(model);
  cmd->add_option("--device", a->device, "cpu or cuda[:N] (needs a CUDA LibTorch)")->group(model);
  add_projection_options(*cmd, a->projection, "Projection", "Optimiser (NVIDIA's defaults)");
  cmd->add_option("--seed", a->projection.seed, "Random seed (noise maps, w noise)")->group("Projection");
  return [a, &g] { return run_project(*a, g); };
}

const CommandRegistration reg{"project", 25, &add_project_command};

}  // namespace
}  // namespace facemix::cli
