// Benchmark of the makeup transfer (figures for docs/makeup.md): every
// reference onto every photo, printing per pair the mean CIEDE2000 to the
// reference in the lip and eye regions before and after (lips: each lip pixel
// against the reference's lip colour, lip_colour(); eyes: each pixel against
// the reference warped onto the photo's face), the photo pixels
// changed outside the face mask, and the time per photo at full resolution
// after alignment (transfer + paste-back; median of --repeat runs, wall and
// process CPU).
//
// usage: bench_makeup [--references A.jpg,B.jpg] [--photos X.jpg,Y.jpg] [--size N]
//                     [--repeat N] [--out-dir DIR] [--triptychs DIR]
// Defaults: three portraits wearing visible lipstick onto eight others from
// ../shared/faces/portraits. --out-dir saves each result as
// DIR/<photo>__<reference>.png (scripts/bench_makeup.sh scores identity on
// them); --triptychs saves before | reference | after face crops as JPEG.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include "facemix/align.h"
#include "facemix/face.h"
#include "facemix/image_io.h"
#include "facemix/makeup.h"

namespace fs = std::filesystem;
using namespace facemix;

namespace {

std::string portraits_dir() {
  if (const char* env = std::getenv("FACEMIX_SHARED")) return std::string(env) + "/faces/portraits";
  return (fs::path(__FILE__).parent_path() / ".." / ".." / "shared" / "faces" / "portraits").lexically_normal().string();
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

Landmarks original_landmarks(const MakeupFace& f) {
  Landmarks lm;
  for (std::size_t i = 0; i < lm.size(); ++i) lm[i] = f.aligned.alignment.to_original(f.aligned.landmarks[i]);
  return lm;
}

struct Timing {
  double wall = 0, cpu = 0;
};

Timing median_timing(int repeat, const MakeupFace& ref, const MakeupFace& photo, cv::Mat& result) {
  std::vector<double> wall, cpu;
  for (int i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    const AlignedMakeup m = transfer_makeup({ref.aligned.image, ref.aligned.landmarks},
                                            {photo.aligned.image, photo.aligned.landmarks}, {});
    result = paste_makeup(photo, m, 1.0);
    cpu.push_back(static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

// Photo pixels that differ although the face hull mask, mapped into the
// photo, is 0 there.
int changed_outside_face(const MakeupFace& photo, const cv::Mat& result, const cv::Mat& face_mask) {
  cv::Mat mask, diff, gray;
  cv::warpAffine(face_mask, mask, cv::Mat(photo.aligned.alignment.original_to_aligned), photo.photo.size(),
                 cv::INTER_LINEAR | cv::WARP_INVERSE_MAP, cv::BORDER_CONSTANT, 0);
  cv::absdiff(result, photo.photo, diff);
  cv::cvtColor(diff, gray, cv::COLOR_BGR2GRAY);
  return cv::countNonZero((gray > 0) & (mask <= 0));
}

cv::Mat face_crop(const cv::Mat& aligned, int side) {
  // The FFHQ crop's central 60 % holds the face from brows to chin.
  const int n = aligned.cols, margin = n / 5;
  cv::Mat out;
  cv::resize(aligned(cv::Rect(margin, margin, n - 2 * margin, n - 2 * margin)), out, cv::Size(side, side), 0, 0,
             cv::INTER_AREA);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  std::vector<std::string> refs = {"M001228.jpg", "B001281.jpg", "C001135.jpg"};
  std::vector<std::string> photos = {"A000369.jpg", "B001315.jpg", "C001088.jpg", "D000600.jpg",
                                     "F000462.jpg", "H001068.jpg", "L000571.jpg", "N000190.jpg"};
  int size = 1024, repeat = 3;
  std::string out_dir, triptych_dir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) { std::fprintf(stderr, "%s needs a value\n", a.c_str()); std::exit(2); }
      return argv[++i];
    };
    if (a == "--references") refs = split_list(next());
    else if (a == "--photos") photos = split_list(next());
    else if (a == "--size") size = std::stoi(next());
    else if (a == "--repeat") repeat = std::max(1, std::stoi(next()));
    else if (a == "--out-dir") out_dir = next();
    else if (a == "--triptychs") triptych_dir = next();
    else { std::fprintf(stderr, "unknown option %s\n", a.c_str()); return 2; }
  }
  const auto path_of = [](const std::string& name) {
    return name.find('/') == std::string::npos ? portraits_dir() + "/" + name : name;
  };
  const FaceDetector detector;
  std::vector<MakeupFace> ref_faces, photo_faces;
  for (const auto& r : refs) ref_faces.push_back(load_makeup_face(detector, path_of(r), 0, size));
  for (const auto& p : photos) photo_faces.push_back(load_makeup_face(detector, path_of(p), 0, size));

  std::printf("aligned size %d, %d run(s) per pair, %d thread(s)\n", size, repeat, cv::getNumThreads());
  std::printf("%-12s %-12s %10s %10s %10s %10s %9s %8s %8s %6s\n", "photo", "reference", "lipsE00", "lipsE00",
              "eyesE00", "eyesE00", "outside", "wall s", "cpu s", "MP");
  std::printf("%-12s %-12s %10s %10s %10s %10s %9s\n", "", "", "before", "after", "before", "after", "changed");
  double sums[4] = {0, 0, 0, 0};
  std::vector<double> walls;
  long outside_total = 0;
  for (std::size_t p = 0; p < photo_faces.size(); ++p) {
    const MakeupFace& photo = photo_faces[p];
    const MakeupRegions regions = makeup_regions(photo.aligned.landmarks, photo.aligned.image.size());
    for (std::size_t r = 0; r < ref_faces.size(); ++r) {
      if (path_of(photos[p]) == path_of(refs[r])) continue;  // a face onto itself
      cv::Mat result;
      const Timing t = median_timing(repeat, ref_faces[r], photo, result);
      const AlignedMakeup m = transfer_makeup({ref_faces[r].aligned.image, ref_faces[r].aligned.landmarks},
                                              {photo.aligned.image, photo.aligned.landmarks}, {});
      AlignOptions options;
      options.output_size = size;
      const cv::Mat after = align_face(result, original_landmarks(photo), options).image;
      const cv::Vec3d lips = lip_colour({ref_faces[r].aligned.image, ref_faces[r].aligned.landmarks});
      const double e[4] = {mean_ciede2000(photo.aligned.image, lips, regions.lips),
                           mean_ciede2000(after, lips, regions.lips),
                           mean_ciede2000(photo.aligned.image, m.reference, regions.eyes),
                           mean_ciede2000(after, m.reference, regions.eyes)};
      const int outside = changed_outside_face(photo, result, regions.face);
      for (int k = 0; k < 4; ++k) sums[k] += e[k];
      walls.push_back(t.wall);
      outside_total += outside;
      const std::string pn = fs::path(photos[p]).stem(), rn = fs::path(refs[r]).stem();
      std::printf("%-12s %-12s %10.2f %10.2f %10.2f %10.2f %9d %8.3f %8.3f %6.2f\n", pn.c_str(), rn.c_str(), e[0], e[1],
                  e[2], e[3], outside, t.wall, t.cpu, photo.photo.total() / 1e6);
      if (!out_dir.empty()) write_image(out_dir + "/" + pn + "__" + rn + ".png", result);
      if (!triptych_dir.empty()) {
        cv::Mat row;
        cv::hconcat(std::vector<cv::Mat>{face_crop(photo.aligned.image, 200), face_crop(ref_faces[r].aligned.image, 200),
                                         face_crop(after, 200)},
                    row);
        write_image(triptych_dir + "/" + pn + "__" + rn + ".jpg", row);
      }
    }
  }
  const double n = static_cast<double>(walls.size());
  std::sort(walls.begin(), walls.end());
  std::printf("mean over %zu pairs: lips %.2f -> %.2f, eyes %.2f -> %.2f; changed outside the face: %ld; "
              "median time %.3f s (max %.3f s)\n",
              walls.size(), sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n, outside_total, walls[walls.size() / 2],
              walls.back());
  return 0;
}
