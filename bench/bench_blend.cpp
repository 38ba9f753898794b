// Benchmark (not a test) of the GAN engine on this machine's CPU.
//
//   bench_blend [--resolution 1024] [--photos A B] [--schedule S] [--space w|wplus]
//               [--threads N] [--step-reps N] [--no-blend] [--roundtrip MODEL [--images N]]
//
// Default: blends two portraits end to end with a random-weight generator of
// NVIDIA's FFHQ config-f shape (ffhq_config(R), initialize_random) at the
// default projection settings, printing the time of every stage (load, detect
// + align, w statistics, each projection phase, render, paste-back), steps/s
// and peak RSS; then the time of one full-resolution forward + backward
// projection step (batch 1 and 2). --roundtrip MODEL instead projects images
// the model rendered itself and prints the round-trip PSNR (W and W+).
#include <sys/resource.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "facemix/align.h"
#include "facemix/face.h"
#include "facemix/gan_blend.h"
#include "facemix/image_io.h"
#include "facemix/latent_mix.h"
#include "facemix/model_file.h"
#include "facemix/paste_back.h"
#include "facemix/projector.h"

namespace fs = std::filesystem;
using namespace facemix;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  int resolution = 1024;
  std::vector<std::string> photos;
  std::string schedule, space = "w", roundtrip;
  int threads = 0, step_reps = 3, images = 4;
  bool blend = true;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // KiB on Linux
}

void row(const std::string& what, double secs, const std::string& note = "") {
  std::printf("  %-34s %9.2f s  %s\n", what.c_str(), secs, note.c_str());
}

std::string default_faces_dir() {
  if (const char* e = std::getenv("FACEMIX_SHARED")) return std::string(e) + "/faces";
  // The fixtures sit next to the source tree (../shared), as for the tests.
  return (fs::path(__FILE__).parent_path().parent_path().parent_path() / "shared" / "faces").string();
}

// One projection step's forward + backward at full resolution, as the
// projector runs it (W+, noise maps with grad, loss on the 256 px image).
double full_step_seconds(const Generator& g, int batch, int reps) {
  const auto& c = g->config();
  const int R = c.img_resolution;
  torch::Tensor ws = g->w_avg().reshape({1, 1, -1}).repeat({batch, c.num_ws(), 1}).requires_grad_(true);
  std::vector<torch::Tensor> noise;
  for (const auto& l : g->noise_layers()) noise.push_back(torch::randn({batch, 1, l.resolution, l.resolution}).requires_grad_(true));
  const torch::Tensor target = torch::zeros({batch, 3, std::min(R, 256), std::min(R, 256)});
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    const auto t = Clock::now();
    SynthesisOptions o;
    o.noise = noise;
    torch::Tensor img = g->synthesis(ws, o);
    if (R > 256) img = torch::avg_pool2d(img, R / 256);
    torch::Tensor loss = (img - target).square().mean();
    ws.mutable_grad() = torch::Tensor();
    loss.backward();
    times.push_back(seconds_since(t));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void blend_two(const Args& a, const Generator& g, Clock::time_point total);

int run_blend(const Args& a) {
  const GeneratorConfig config = ffhq_config(a.resolution);
  const std::string model_path = (fs::temp_directory_path() / ("bench_blend_ffhq" + std::to_string(a.resolution) + ".safetensors")).string();
  {
    GeneratorImpl random_model(config);
    random_model.initialize_random(1);
    write_model_file(model_path, random_model);
  }
  std::printf("GAN blend, random-weight FFHQ-%d generator (%s), %d threads\n", a.resolution, model_path.c_str(),
              at::get_num_threads());
  const auto total = Clock::now();

  auto t = Clock::now();
  const Generator g = load_generator(model_path);
  row("load model", seconds_since(t));
  if (a.blend) blend_two(a, g, total);
  for (int batch : {1, 2}) {
    const double s = full_step_seconds(g, batch, a.step_reps);
    row("full-res fwd+bwd step, batch " + std::to_string(batch), s,
        "median of " + std::to_string(a.step_reps) + " reps");
  }
  std::printf("  peak RSS %.0f MiB\n", peak_rss_mib());
  fs::remove(model_path);
  return 0;
}

void blend_two(const Args& a, const Generator& g, Clock::time_point total) {
  auto t = Clock::now();
  t = Clock::now();
  const FaceDetector detector;
  std::vector<cv::Mat> photos, faces;
  std::vector<AlignedFace> aligned;
  for (const auto& p : a.photos) {
    photos.push_back(read_image(p));
    const std::vector<Face> found = detector.detect(photos.back());  // select_face refers into it
    const Face& f = select_face(found, 0, p);
    aligned.push_back(align_face(photos.back(), f.landmarks, AlignOptions{a.resolution}));
    faces.push_back(aligned.back().image);
  }
  row("detect + align (" + std::to_string(a.photos.size()) + " photos)", seconds_since(t));

  t = Clock::now();
  const WStatistics stats = w_statistics(g);
  row("w statistics (10000 samples)", seconds_since(t), "w_std " + std::to_string(stats.w_std));

  ProjectorOptions o;
  o.space = parse_latent_space(a.space);
  o.schedule = a.schedule.empty() ? default_schedule(a.resolution) : parse_schedule(a.schedule, a.resolution);
  t = Clock::now();
  const torch::Tensor targets = faces_to_targets(faces, a.resolution);
  const ProjectionResult r = project(g, targets, o);
  const double projection = seconds_since(t);
  for (const auto& s : r.stages) {
    char note[96];
    std::snprintf(note, sizeof note, "%4d steps, %6.2f steps/s, loss %.4f", s.stage.steps, s.stage.steps / s.seconds,
                  s.final_loss);
    row("project " + std::to_string(s.stage.resolution) + " px (batch " + std::to_string(faces.size()) + ")",
        s.seconds, note);
  }
  row("projection total", projection, to_string(o.schedule));

  t = Clock::now();
  const std::vector<double> weights(faces.size(), 1.0 / static_cast<double>(faces.size()));
  const torch::Tensor w = blend_latents(g, r.ws, row_weights(g->num_ws(), weights, {}));
  const cv::Mat face = render_face(g, w, a.resolution);
  row("mix + render", seconds_since(t));

  t = Clock::now();
  const cv::Mat pasted = paste_back(photos[0], aligned[0].alignment, face, aligned[0].landmarks);
  row("paste-back", seconds_since(t), std::to_string(pasted.cols) + "x" + std::to_string(pasted.rows));
  row("end to end", seconds_since(total));
  std::printf("  peak RSS %.0f MiB\n", peak_rss_mib());
}

int run_roundtrip(const Args& a) {
  const Generator g = load_generator(a.roundtrip);
  const int R = g->config().img_resolution;
  torch::Tensor targets;
  {
    torch::InferenceMode guard;
    std::vector<torch::Tensor> zs;
    for (int i = 0; i < a.images; ++i) zs.push_back(z_from_seed(1000 + i, g->config().z_dim));
    const torch::Tensor img = g->synthesis(g->mapping(torch::cat(zs, 0)));
    targets = (img * 127.5 + 128).clamp(0, 255).floor().sub(128).div(127.5).clone();
  }
  targets = targets.clone();
  std::printf("round trip, %s (%d px), %d images, %d threads\n", a.roundtrip.c_str(), R, a.images, at::get_num_threads());
  for (const char* space : {"w", "wplus"}) {
    ProjectorOptions o;
    o.space = parse_latent_space(space);
    o.schedule = a.schedule.empty() ? default_schedule(R) : parse_schedule(a.schedule, R);
    const auto t = Clock::now();
    const ProjectionResult r = project(g, targets, o);
    const double secs = seconds_since(t);
    torch::InferenceMode guard;
    SynthesisOptions with_noise;
    with_noise.noise = r.noise;
    auto q = [](const torch::Tensor& x) { return (x * 127.5 + 128).clamp(0, 255).floor().sub(128).div(127.5); };
    const auto p_noise = psnr(q(g->synthesis(r.ws, with_noise)), targets);
    const auto p_const = psnr(q(g->synthesis(r.ws)), targets);
    double m_noise = 0, m_const = 0;
    for (size_t i = 0; i < p_noise.size(); ++i) m_noise += p_noise[i] / p_noise.size(), m_const += p_const[i] / p_const.size();
    std::printf("  %-6s schedule %-22s %7.2f s  PSNR %.2f dB (projected noise), %.2f dB (model's noise)\n", space,
                to_string(o.schedule).c_str(), secs, m_noise, m_const);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // rows appear as they are measured
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_blend: %s needs a value\n", s.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (s == "--resolution") a.resolution = std::atoi(next().c_str());
    else if (s == "--photos") { a.photos = {next(), next()}; }
    else if (s == "--schedule") a.schedule = next();
    else if (s == "--space") a.space = next();
    else if (s == "--threads") a.threads = std::atoi(next().c_str());
    else if (s == "--step-reps") a.step_reps = std::max(1, std::atoi(next().c_str()));
    else if (s == "--no-blend") a.blend = false;
    else if (s == "--roundtrip") a.roundtrip = next();
    else if (s == "--images") a.images = std::max(1, std::atoi(next().c_str()));
    else {
      std::fprintf(stderr, "usage: bench_blend [--resolution R] [--photos A B] [--schedule S] [--space w|wplus]\n"
                           "                   [--threads N] [--step-reps N] [--roundtrip MODEL [--images N]]\n");
      return 2;
    }
  }
  // Like the CLI: all cores unless told otherwise.
  at::set_num_threads(a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  if (a.photos.empty())
    a.photos = {default_faces_dir() + "/congress_C001080.jpg", default_faces_dir() + "/congress_S001223_glasses.jpg"};
  try {
    return a.roundtrip.empty() ? run_blend(a) : run_roundtrip(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_blend: %s\n", e.what());
    return 1;
  }
}
