// Benchmark of the morph engine: a two-face morph at 1024 (after alignment)
// and a 30-frame sequence at 1024 written as GIF, MP4 and a PNG directory.
//
// usage: bench_morph [PHOTO_A PHOTO_B] [--size N] [--frames N] [--repeat N]
// (default photos: ../shared/faces next to the source tree)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/utility.hpp>
#include <spdlog/spdlog.h>

#include "bench_support.h"
#include "facemix/align.h"
#include "facemix/face.h"
#include "facemix/image_io.h"
#include "facemix/morph.h"
#include "facemix/sequence.h"

namespace fs = std::filesystem;
using namespace facemix;
using facemix::bench::median;
using facemix::bench::seconds_of;
using facemix::bench::shared_faces_dir;

namespace {

double median_seconds(int repeat, const std::function<void()>& f) {
  std::vector<double> t;
  for (int i = 0; i < repeat; ++i) t.push_back(seconds_of(f));
  return median(t);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> photos;
  int size = 1024, frames = 30, repeat = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--size" && i + 1 < argc) size = std::atoi(argv[++i]);
    else if (a == "--frames" && i + 1 < argc) frames = std::atoi(argv[++i]);
    else if (a == "--repeat" && i + 1 < argc) repeat = std::atoi(argv[++i]);
    else photos.push_back(a);
  }
  if (photos.empty())
    photos = {shared_faces_dir() + "/congress_C001080.jpg", shared_faces_dir() + "/congress_N000179_older.jpg"};
  if (photos.size() != 2) {
    std::fprintf(stderr, "usage: bench_morph [PHOTO_A PHOTO_B] [--size N] [--frames N] [--repeat N]\n");
    return 2;
  }

  spdlog::set_level(spdlog::level::warn);  // stdout is the table
  const FaceDetector detector;
  std::vector<MorphFace> faces;
  AlignOptions align_options;
  align_options.output_size = size;
  double align_s = 0;
  for (const auto& p : photos) {
    const cv::Mat img = read_image(p);
    const Face face = select_face(detector.detect(img), 0, p);
    AlignedFace a;
    align_s += seconds_of([&] { a = align_face(img, face.landmarks, align_options); });
    faces.push_back({a.image, a.landmarks});
  }

  const auto weights = equal_weights(2);
  const double morph_s = median_seconds(repeat, [&] { morph_faces(faces, weights); });
  const Shape sa = control_shape(faces[0].landmarks, faces[0].image.size());
  const Shape mid = average_shape({sa, control_shape(faces[1].landmarks, faces[1].image.size())}, weights);
  const auto tris = delaunay_triangles(mid);
  const double map_s = median_seconds(repeat, [&] { piecewise_affine_map(sa, mid, tris, faces[0].image.size()); });
  const Morpher morpher(faces);
  auto frame = [&](int i) { return morpher.render(sequence_weights(i, frames, 2)).image; };
  const double render_s = seconds_of([&] {
    for (int i = 0; i < frames; ++i) frame(i);
  });

  const fs::path tmp = fs::temp_directory_path() / ("facemix-bench-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  auto write = [&](const std::string& out, SequenceFormat f) {
    return seconds_of([&] { write_sequence(out, f, frames, frame, {25.0}); });
  };
  const double gif_s = write((tmp / "morph.gif").string(), SequenceFormat::kGif);
  const double mp4_s = write((tmp / "morph.mp4").string(), SequenceFormat::kMp4);
  const double dir_s = write((tmp / "frames").string() + "/", SequenceFormat::kFrameDirectory);
  const auto gif_bytes = fs::file_size(tmp / "morph.gif"), mp4_bytes = fs::file_size(tmp / "morph.mp4");
  fs::remove_all(tmp);

  std::printf("bench_morph: %s + %s, size %d, %d OpenCV threads\n", fs::path(photos[0]).filename().c_str(),
              fs::path(photos[1]).filename().c_str(), size, cv::getNumThreads());
  std::printf("%-44s %10s\n", "measure", "seconds");
  std::printf("%-44s %10.3f\n", "align both inputs (FFHQ, not the morph)", align_s);
  std::printf("%-44s %10.4f\n", "dense warp map, one face (median)", map_s);
  std::printf("%-44s %10.4f\n", "two-face morph (median)", morph_s);
  std::printf("%-44s %10.3f\n", ("render " + std::to_string(frames) + " frames (no output)").c_str(), render_s);
  std::printf("%-44s %10.3f  (%.1f MB)\n", ("sequence of " + std::to_string(frames) + " -> GIF").c_str(), gif_s,
              gif_bytes / 1e6);
  std::printf("%-44s %10.3f  (%.1f MB)\n", ("sequence of " + std::to_string(frames) + " -> MP4").c_str(), mp4_s,
              mp4_bytes / 1e6);
  std::printf("%-44s %10.3f\n", ("sequence of " + std::to_string(frames) + " -> PNG directory").c_str(), dir_s);
  return 0;
}
