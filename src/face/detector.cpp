// Face detection (dlib's HOG frontal detector) and 68-point landmarks (dlib's
// shape predictor), with the detector run at a scale chosen from the image
// size and the landmarks fitted on the full-resolution image.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <dlib/image_processing.h>
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "facemix/face.h"
#include "face/landmark_cache.h"

namespace fs = std::filesystem;

namespace facemix {
namespace {

constexpr const char* kDefaultLandmarksModel = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";

// The HOG scan is planned for an image of about this many pixels: smaller
// images are upsampled (2x, so faces down to ~40 px are found; the detector's
// window is 80 px), larger ones are downscaled (a 20-megapixel photo would
// otherwise take seconds while its faces are far above 80 px anyway).
constexpr double kDetectorTargetPixels = 2.0e6;
// When nothing is found, the scan is repeated at twice the scale as long as the
// scaled image stays under this size.
constexpr double kRetryMaxPixels = 4.5e6;

// dlib's HOG detector sometimes fires weakly on clothing or helmets next to a
// real face (score ~0.1 against > 0.5 for real faces). A detection is kept when
// it is the strongest one, scores at least kWeakScore, or scores at least
// kRelativeScore of the strongest.
constexpr double kWeakScore = 0.3;
constexpr double kRelativeScore = 0.5;

double planned_scale(double pixels) {
  const double s = std::sqrt(kDetectorTargetPixels / pixels);
  if (s >= 2.0) return 2.0;
  if (s >= 1.0) return 1.0;
  return s;
}

}  // namespace

struct FaceDetector::Impl {
  mutable dlib::frontal_face_detector detector;
  dlib::shape_predictor predictor;

  std::vector<Face> detect_at(const cv::Mat& image, double scale) const;
};

std::string resolve_landmarks_model(const std::string& override_path) {
  std::string path = override_path, origin = "--landmarks-model";
  if (path.empty()) {
    const char* env = std::getenv("FACEMIX_LANDMARKS");
    if (env && *env) {
      path = env;
      origin = "$FACEMIX_LANDMARKS";
    }
  }
  if (path.empty()) {
    path = kDefaultLandmarksModel;
    if (!fs::is_regular_file(path))
      throw ModelError(path + ": landmarks model not found; install the Debian package "
                              "libdlib-data, or pass --landmarks-model FILE or set "
                              "FACEMIX_LANDMARKS");
    return path;
  }
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw ModelError(path + ": landmarks model not found (from " + origin + ")");
  if (!fs::is_regular_file(path, ec))
    throw ModelError(path + ": landmarks model is not a regular file (from " + origin + ")");
  return path;
}

std::string landmarks_cache_dir() { return detail::landmark_cache_dir(); }

std::string landmarks_cache_path(const std::string& cache_dir, const std::string& model_path) {
  return detail::landmark_cache_path(cache_dir, model_path);
}

FaceDetector::FaceDetector(const std::string& landmarks_model, const std::optional<std::string>& cache_dir)
    : impl_(new Impl) {
  try {
    const std::string path = resolve_landmarks_model(landmarks_model);
    try {
      const std::string dir = cache_dir ? *cache_dir : detail::landmark_cache_dir();
      impl_->detector = detail::load_frontal_face_detector(dir);
      impl_->predictor = detail::load_shape_predictor(path, dir);
    } catch (const std::exception& e) {
      throw ModelError(path + ": not a dlib shape predictor model (" +
                       std::string(e.what()).substr(0, 120) + ")");
    }
    if (impl_->predictor.num_parts() != 68)
      throw ModelError(path + ": the shape predictor has " +
                       std::to_string(impl_->predictor.num_parts()) +
                       " landmarks; facemix needs the 68-point model");
    spdlog::debug("loaded landmarks model {}", path);
  } catch (...) {
    delete impl_;
    throw;
  }
}

FaceDetector::~FaceDetector() { delete impl_; }
FaceDetector::FaceDetector(FaceDetector&& other) noexcept : impl_(other.impl_) { other.impl_ = nullptr; }
FaceDetector& FaceDetector::operator=(FaceDetector&& other) noexcept {
  std::swap(impl_, other.impl_);
  return *this;
}

std::vector<Face> FaceDetector::Impl::detect_at(const cv::Mat& image, double scale) const {
  cv::Mat scaled = image;
  if (scale != 1.0) {
    const cv::Size size(std::max(1, static_cast<int>(std::lround(image.cols * scale))),
                        std::max(1, static_cast<int>(std::lround(image.rows * scale))));
    cv::resize(image, scaled, size, 0, 0, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  const double sx = static_cast<double>(scaled.cols) / image.cols;
  const double sy = static_cast<double>(scaled.rows) / image.rows;

  std::vector<dlib::rect_detection> dets;
  detector(dlib::cv_image<dlib::bgr_pixel>(scaled), dets, 0.0);
  double best = -1e300;
  for (const auto& d : dets) best = std::max(best, d.detection_confidence);

  const dlib::cv_image<dlib::bgr_pixel> full(image);
  std::vector<Face> faces;
  for (const auto& d : dets) {
    const double s = d.detection_confidence;
    if (s < best && s < kWeakScore && s < kRelativeScore * best) {
      spdlog::debug("ignoring a weak detection (score {:.3f}, strongest {:.3f})", s, best);
      continue;
    }
    Face f;
    // Pixel-edge coordinates scale exactly: pixel i covers [i, i+1).
    f.box = cv::Rect2d(d.rect.left() / sx, d.rect.top() / sy, (d.rect.right() + 1 - d.rect.left()) / sx,
                       (d.rect.bottom() + 1 - d.rect.top()) / sy);
    f.score = s;
    const dlib::rectangle r(std::lround(f.box.x), std::lround(f.box.y),
                            std::lround(f.box.x + f.box.width) - 1,
                            std::lround(f.box.y + f.box.height) - 1);
    const dlib::full_object_detection shape = predictor(full, r);
    for (std::size_t i = 0; i < f.landmarks.size(); ++i)
      f.landmarks[i] = cv::Point2d(static_cast<double>(shape.part(static_cast<unsigned long>(i)).x()),
                                   static_cast<double>(shape.part(static_cast<unsigned long>(i)).y()));
    faces.push_back(f);
  }
  std::stable_sort(faces.begin(), faces.end(), [](const Face& a, const Face& b) {
    const double aa = a.box.area(), ba = b.box.area();
    if (aa != ba) return aa > ba;
    return a.box.x < b.box.x;
  });
  return faces;
}

std::vector<Face> FaceDetector::detect(const cv::Mat& image) const {
  if (image.empty() || image.type() != CV_8UC3)
    throw Error("FaceDetector::detect: image must be non-empty 8-bit BGR");
  const double pixels = static_cast<double>(image.total());
  double scale = planned_scale(pixels);
  std::vector<Face> faces = impl_->detect_at(image, scale);
  spdlog::debug("face detector at scale {:.3f}: {} face(s)", scale, faces.size());
  const double retry = std::min(2.0, 2.0 * scale);
  if (faces.empty() && retry > scale && pixels * retry * retry <= kRetryMaxPixels) {
    faces = impl_->detect_at(image, retry);
    spdlog::debug("face detector retried at scale {:.3f}: {} face(s)", retry, faces.size());
  }
  return faces;
}

const Face& select_face(const std::vector<Face>& faces, int index, const std::string& source) {
  if (faces.empty()) throw NoFaceError(source + ": no frontal face found");
  if (index < 0 || static_cast<std::size_t>(index) >= faces.size())
    throw NoFaceError(source + ": --face " + std::to_string(index) + " is out of range: found " +
                      std::to_string(faces.size()) + " face(s), numbered 0 to " +
                      std::to_string(faces.size() - 1) + " from largest to smallest");
  const Face& f = faces[static_cast<std::size_t>(index)];
  spdlog::info("{}: found {} face(s); using face {} ({:.0f}x{:.0f} at {:.0f},{:.0f})", source,
               faces.size(), index, f.box.width, f.box.height, f.box.x, f.box.y);
  return f;
}

}  // namespace facemix
