// Benchmark of the GAN engine's identity refinement (identity_refine.h): two
// photos projected into a generator, mixed 50/50, refined; prints the
// identity distances to the two photos before and after, measured twice:
// on the refinement's own chip (its reduced render, cut_chips) and
// independently (the 8-bit render at 256 px, dlib's face_chip at the expected
// landmarks), and the time per step (wall and CPU) with the load average.
//
// usage: bench_gan_refine MODEL PHOTO_A PHOTO_B [--steps N] [--schedule S] [--reps N]
//        bench_gan_refine --ffhq-random RES [--steps N]
// The second form times the steps only, on FFHQ's architecture at RES with
// random weights (no real weights here): what a step would cost with a real
// model (rendering at IdentityRefineOptions::render_resolution).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "facemix/align.h"
#include "facemix/face.h"
#include "facemix/gan_blend.h"
#include "facemix/generator.h"
#include "facemix/identity.h"
#include "facemix/identity_refine.h"
#include "facemix/image_io.h"
#include "facemix/model_file.h"
#include "facemix/pipeline_stages.h"

using namespace facemix;

namespace {

// The largest distance of the 256 px 8-bit render of w to the inputs,
// its chip cut by dlib at `landmarks` (in the R px frame).
std::vector<double> independent_distances(const Generator& g, const torch::Tensor& w, const IdentityModel& model,
                                          const Landmarks& landmarks, const std::vector<Descriptor>& inputs) {
  constexpr int kSide = 256;
  const double s = static_cast<double>(kSide) / g->config().img_resolution;
  Landmarks scaled;
  for (std::size_t k = 0; k < scaled.size(); ++k)
    scaled[k] = (landmarks[k] + cv::Point2d(0.5, 0.5)) * s - cv::Point2d(0.5, 0.5);
  const Descriptor d = describe_face(model, render_face(g, w, kSide), scaled);
  std::vector<double> out;
  for (const auto& in : inputs) out.push_back(descriptor_distance(d, in));
  return out;
}

std::string pair_text(const std::vector<double>& v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f, %.3f (max %.3f)", v[0], v[1], std::max(v[0], v[1]));
  return buf;
}

}  // namespace

// Seconds per step on the FFHQ architecture with random weights.
int time_ffhq_random(int resolution, int steps) {
  Generator g(ffhq_config(resolution));
  g->initialize_random(1);
  const IdentityModel model = load_identity_model(find_identity_model(""));
  torch::manual_seed(1);
  const torch::Tensor w = g->mapping(torch::randn({1, g->config().z_dim})).detach();
  const Descriptor target{};
  const torch::Tensor image = torch::zeros({1, 3, resolution, resolution});
  IdentityRefineOptions o;
  o.steps = steps;
  const std::clock_t c0 = std::clock();
  const IdentityRefinement r =
      refine_identity(g, w, model, {target, target}, whole_frame_chip(resolution), image, o);
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("FFHQ %d px architecture, random weights, render %d px: %.3f s wall, %.3f s CPU per step "
              "(%d steps; load average %.2f %.2f %.2f)\n",
              resolution, r.render_resolution, r.seconds / steps,
              static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC / steps, steps, load[0], load[1], load[2]);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--ffhq-random") {
    spdlog::set_level(spdlog::level::warn);
    return time_ffhq_random(std::atoi(argv[2]), argc >= 5 ? std::atoi(argv[4]) : 5);
  }
  if (argc < 4) {
    std::fprintf(stderr, "usage: bench_gan_refine MODEL PHOTO_A PHOTO_B [--steps N] [--schedule S] [--reps N]\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  int steps = IdentityRefineOptions{}.steps, reps = 3;
  std::string schedule;
  for (int i = 4; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--steps") steps = std::atoi(argv[i + 1]);
    else if (k == "--schedule") schedule = argv[i + 1];
    else if (k == "--reps") reps = std::atoi(argv[i + 1]);
  }
  const Generator g = load_generator(argv[1]);
  const int R = g->config().img_resolution;
  const IdentityModel model = load_identity_model(find_identity_model(""));
  const FaceDetector detector;
  std::vector<AlignedFace> crops;
  std::vector<cv::Mat> faces;
  std::vector<Descriptor> inputs;
  for (int i = 2; i <= 3; ++i) {
    const cv::Mat photo = read_image(argv[i]);
    const std::vector<Face> found = detector.detect(photo);
    const Face& face = select_face(found, 0, argv[i]);
    inputs.push_back(describe_face(model, photo, face.landmarks));
    crops.push_back(align_face(photo, face.landmarks, AlignOptions{R}));
    faces.push_back(crops.back().image);
  }
  ProjectorOptions po;
  po.schedule = schedule.empty() ? default_schedule(R) : parse_schedule(schedule, R);
  const std::vector<torch::Tensor> ws = project_photos(g, faces, po, {argv[2], argv[3]});
  const torch::Tensor all = torch::cat(ws, 0);
  const std::vector<double> weights = {0.5, 0.5};
  const RowWeights rows = row_weights(g->num_ws(), weights, {});
  const Landmarks expected = expected_landmarks({crops[0].landmarks, crops[1].landmarks}, weights);

  std::printf("model %s (%d px), photos %s + %s, projection %s, %d refinement steps\n", argv[1], R, argv[2], argv[3],
              to_string(po.schedule).c_str(), steps);
  std::vector<double> wall, cpu;
  IdentityRefinement r;
  for (int rep = 0; rep < reps; ++rep) {
    const std::clock_t c0 = std::clock();
    r = refine_gan_blend(g, all, rows, 1.0, model, inputs, crops, weights, steps);
    cpu.push_back(static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC / std::max(1, steps));
    wall.push_back(r.seconds / std::max(1, steps));
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  const torch::Tensor mixed = blend_latents(g, all, rows, 1.0);
  std::printf("loss %.4f -> %.4f (best step %d, render %d px)\n", r.losses.front(),
              r.losses[static_cast<std::size_t>(r.best_step)], r.best_step, r.render_resolution);
  std::printf("distances on the refinement's chip:  before %s  after %s\n", pair_text(r.initial_distances).c_str(),
              pair_text(r.final_distances).c_str());
  std::printf("distances on 8-bit 256 px renders:    before %s  after %s\n",
              pair_text(independent_distances(g, mixed, model, expected, inputs)).c_str(),
              pair_text(independent_distances(g, r.w, model, expected, inputs)).c_str());
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("time per step: median of %d runs %.3f s wall, %.3f s CPU (load average %.2f %.2f %.2f)\n", reps,
              wall[wall.size() / 2], cpu[cpu.size() / 2], load[0], load[1], load[2]);
  return 0;
}
