// Benchmark of the identity network: model load, chip + descriptor time per
// face, and the distance distributions on ../shared photos: every pair of
// different people among the single-face portraits, and each photo against its
// mirror image and a 40% copy.
//
// usage: bench_identity [--model FILE] [--repeat N]
// (photos: ../shared/faces and ../shared/faces/portraits next to the source tree)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include "bench_support.h"
#include "facemix/face.h"
#include "facemix/identity.h"
#include "facemix/image_io.h"

namespace fs = std::filesystem;
using namespace facemix;
using facemix::bench::median;
using facemix::bench::seconds_of;
using facemix::bench::shared_faces_dir;

namespace {

// Single-face photos of distinct people: the portraits plus set A's portraits
// (its derived copies and multi-face/profile/no-face files are left out).
std::vector<std::string> distinct_people() {
  std::vector<std::string> files;
  const std::string dir = shared_faces_dir();
  for (const auto& e : fs::directory_iterator(dir + "/portraits"))
    if (e.path().extension() == ".jpg") files.push_back(e.path().string());
  for (const char* name : {"congress_A000370_hat.jpg", "congress_C000537_glasses_older.jpg", "congress_C001080.jpg",
                           "congress_K000389_flag.jpg", "congress_N000179_older.jpg",
                           "congress_N000189_beard_glasses.jpg", "congress_O000173_headscarf.jpg",
                           "congress_S001223_glasses.jpg", "nasa_astronaut_portrait.png",
                           "congress_E000295_large_3884x4920.jpg", "nara_1879_grayscale_large.jpg"})
    files.push_back(dir + "/" + name);
  std::sort(files.begin(), files.end());
  return files;
}

void print_distribution(const char* what, std::vector<double> d) {
  std::sort(d.begin(), d.end());
  const auto under = [&](double t) { return std::count_if(d.begin(), d.end(), [t](double x) { return x < t; }); };
  std::printf("%-34s %6zu %7.3f %7.3f %7.3f %7.3f %9ld %9ld\n", what, d.size(), d.front(), d[d.size() / 2],
              d[d.size() * 95 / 100], d.back(), static_cast<long>(under(0.6)), static_cast<long>(under(0.5)));
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_option;
  int repeat = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) model_option = argv[++i];
    else if (a == "--repeat" && i + 1 < argc) repeat = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: bench_identity [--model FILE] [--repeat N]\n");
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  const std::string model_path = find_identity_model(model_option);
  std::vector<double> load_times;
  IdentityModel model;
  for (int i = 0; i < repeat; ++i) load_times.push_back(seconds_of([&] { model = load_identity_model(model_path); }));

  const FaceDetector detector;
  const std::vector<std::string> files = distinct_people();
  std::vector<Descriptor> people;
  std::vector<double> chip_times, net_times, mirror, shrunk;
  for (const auto& f : files) {
    const cv::Mat photo = read_image(f);
    const Landmarks lm = select_face(detector.detect(photo), 0, f).landmarks;
    cv::Mat chip;
    chip_times.push_back(seconds_of([&] { chip = face_chip(photo, lm); }));
    Descriptor d;
    net_times.push_back(seconds_of([&] { d = describe_chips(model, {chip})[0]; }));
    people.push_back(d);
    cv::Mat flipped, small;
    cv::flip(photo, flipped, 1);
    cv::resize(photo, small, cv::Size(), 0.4, 0.4, cv::INTER_AREA);
    mirror.push_back(descriptor_distance(d, describe_face(model, flipped, select_face(detector.detect(flipped), 0, f).landmarks)));
    shrunk.push_back(descriptor_distance(d, describe_face(model, small, select_face(detector.detect(small), 0, f).landmarks)));
  }
  std::vector<double> different;
  for (std::size_t i = 0; i < people.size(); ++i)
    for (std::size_t k = 0; k < i; ++k) different.push_back(descriptor_distance(people[i], people[k]));

  std::printf("bench_identity: model %s (%s), %d Torch threads\n", model.path.c_str(), model.source_format.c_str(),
              at::get_num_threads());
  std::printf("%-44s %10s\n", "measure", "seconds");
  std::printf("%-44s %10.3f\n", "model load (median)", median(load_times));
  std::printf("%-44s %10.4f\n", "chip extraction per face (median)", median(chip_times));
  std::printf("%-44s %10.4f\n", "descriptor per face, batch 1 (median)", median(net_times));
  std::vector<cv::Mat> batch;
  for (std::size_t i = 0; i < 16; ++i) batch.push_back(cv::Mat(kIdentityChipSize, kIdentityChipSize, CV_8UC3, cv::Scalar(90, 120, 160)));
  const double batch_s = seconds_of([&] { describe_chips(model, batch); });
  std::printf("%-44s %10.4f\n", "descriptor per face, batch 16", batch_s / 16);
  std::printf("\n%-34s %6s %7s %7s %7s %7s %9s %9s\n", "distances", "pairs", "min", "median", "p95", "max", "<0.6",
              "<0.5");
  print_distribution("different people", different);
  print_distribution("photo vs its mirror image", mirror);
  print_distribution("photo vs its 40% copy", shrunk);
  return 0;
}
