// Fuzz entry points (see fuzz_entries.h). Readers that need a path get the
// input through one per-process temp file; the header parser is also fed the
// bytes directly.
#include "fuzz_entries.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <opencv2/core.hpp>
#include <spdlog/spdlog.h>

#include "facemix/align.h"
#include "facemix/batch.h"
#include "facemix/errors.h"
#include "facemix/face.h"
#include "facemix/image_io.h"
#include "facemix/latents.h"
#include "facemix/model_file.h"
#include "facemix/safetensors.h"

namespace facemix::fuzz {
namespace {

// Fuzzing millions of refusals must not flood the log.
void quiet_logs() {
  static const bool once = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
  }();
  (void)once;
}

struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const auto& p : paths) std::remove(p.c_str());
  }
};

const FaceDetector& detector() {
  static const FaceDetector d;  // loads the dlib landmark model once per process
  return d;
}

uint16_t read_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

}  // namespace

std::string write_temp_input(const uint8_t* data, size_t size, const std::string& extension) {
  static TempFiles files;
  const std::string dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/facemix-fuzz-" + std::to_string(::getpid()) + extension;
  if (std::find(files.paths.begin(), files.paths.end(), path) == files.paths.end()) files.paths.push_back(path);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  f.close();
  if (!f) throw std::runtime_error("fuzz harness: cannot write " + path);
  return path;
}

void run_model_file(const uint8_t* data, size_t size) {
  quiet_logs();
  if (size >= 8) {
    uint64_t n = 0;
    std::memcpy(&n, data, 8);
    if (n <= size - 8 && n <= kMaxSafetensorsHeader) {
      try {
        parse_safetensors_header(std::string(reinterpret_cast<const char*>(data) + 8, n), size, "fuzz");
      } catch (const Error&) {
      }
    }
  }
  const std::string path = write_temp_input(data, size, ".safetensors");
  try {
    const ModelInfo info = inspect_model(path);
    if (info.parameter_count <= 0) throw std::logic_error("inspect_model accepted a model without parameters");
  } catch (const Error&) {
  }
}

void run_latent_file(const uint8_t* data, size_t size) {
  quiet_logs();
  const bool npy = size >= 6 && std::memcmp(data, "\x93NUMPY", 6) == 0;
  const std::string path = write_temp_input(data, size, npy ? ".npy" : ".npz");
  try {
    const at::Tensor w = read_latents(path);
    if (w.dim() != 2 && w.dim() != 3) throw std::logic_error("read_latents returned a tensor of another rank");
  } catch (const Error&) {
  }
}

void run_image_face(const uint8_t* data, size_t size) {
  quiet_logs();
  const std::string path = write_temp_input(data, size, ".img");
  cv::Mat image;
  try {
    ImageReadOptions opts;
    opts.max_pixels = kFuzzMaxPixels;
    image = read_image(path, opts);
  } catch (const Error&) {
    return;
  }
  if (image.empty() || image.type() != CV_8UC3) throw std::logic_error("read_image returned a non-BGR image");
  try {
    const std::vector<Face> faces = detector().detect(image);
    for (const Face& f : faces) {
      const AlignedFace a = align_face(image, f.landmarks, AlignOptions{64});
      if (a.image.rows != 64 || a.image.cols != 64) throw std::logic_error("align_face returned another size");
    }
  } catch (const Error&) {
  }
}

void run_align_landmarks(const uint8_t* data, size_t size) {
  quiet_logs();
  constexpr size_t kNeed = 4 + 68 * 2 * 2;
  if (size < kNeed) return;
  // Image 16..527 px a side; landmarks anywhere from one image size before to
  // two after the image (detector landmarks may lie outside the image).
  const int w = 16 + read_u16(data) % 512, h = 16 + read_u16(data + 2) % 512;
  Landmarks lm;
  for (size_t i = 0; i < lm.size(); ++i) {
    const double fx = read_u16(data + 4 + 4 * i) / 65535.0, fy = read_u16(data + 6 + 4 * i) / 65535.0;
    lm[i] = cv::Point2d((fx * 4.0 - 1.0) * w, (fy * 4.0 - 1.0) * h);
  }
  cv::Mat image(h, w, CV_8UC3);
  cv::RNG rng(static_cast<uint64_t>(w) * 1000 + h);  // same input, same pixels
  rng.fill(image, cv::RNG::UNIFORM, 0, 256);
  try {
    const AlignmentPlan plan = plan_ffhq_alignment(lm, image.size(), AlignOptions{32});
    if (!(plan.qsize > 0)) throw std::logic_error("alignment plan with a non-positive quad size");
    const AlignedFace a = align_face(image, lm, AlignOptions{32});
    if (a.image.rows != 32 || a.image.cols != 32) throw std::logic_error("align_face returned another size");
  } catch (const Error&) {
  }
}

void run_manifest(const uint8_t* data, size_t size) {
  quiet_logs();
  std::vector<BatchJob> jobs;
  try {
    jobs = parse_manifest(std::string(reinterpret_cast<const char*>(data), size), "/base");
  } catch (const Error&) {
    return;
  }
  if (jobs.empty()) throw std::logic_error("parse_manifest returned no jobs without throwing");
  for (const BatchJob& j : jobs) {
    if (j.output.empty() || j.inputs.size() < 2) throw std::logic_error("manifest job without output or 2 inputs");
    if (!j.weights.empty() && j.weights.size() != j.inputs.size())
      throw std::logic_error("manifest job with a weight count other than its input count");
    for (double w : j.weights)
      if (!std::isfinite(w)) throw std::logic_error("manifest job with a non-finite weight");
    if (j.paste_into < -1 || j.paste_into >= static_cast<int>(j.inputs.size()))
      throw std::logic_error("manifest job with paste_into out of range");
  }
}

}  // namespace facemix::fuzz
