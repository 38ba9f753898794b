// Face detection and 68-point landmarks (dlib HOG detector + shape predictor).
//
//   facemix::FaceDetector detector;                 // loads the landmark model once
//   auto faces = detector.detect(image);            // sorted, largest first
//   const auto& f = facemix::select_face(faces, 0, "photo.jpg");
//
// A FaceDetector holds read-only model data; detect() is const. Use one
// detector per thread (dlib's detectors keep scratch buffers).
//
// Loading dlib's 99 MB landmark model takes ~1.4 s (its floats are stored in
// a portable variable-length encoding). The first load therefore also writes
// a fast-loading copy of the same numbers into the cache directory
// (landmarks_cache_dir()), which later loads use while the source file keeps
// its path, size and modification time. The copy is written only when the
// model rebuilt from it serialises back to the source file's exact bytes, so
// landmarks are the same with or without it. The HOG face detector compiled
// into dlib (~0.4 s to decode) is kept there too, serialised.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace facemix {

// 68 landmarks in the iBUG 300-W order dlib uses (0-16 jaw, 17-26 brows,
// 27-35 nose, 36-41 left eye (image left), 42-47 right eye, 48-67 mouth),
// in pixel coordinates of the image they were found in.
using Landmarks = std::array<cv::Point2d, 68>;

struct Face {
  cv::Rect2d box;      // detector box, image pixels
  double score = 0.0;  // detector confidence
  Landmarks landmarks;
};

// Where the landmark model is looked for, in order: `override_path` (the
// --landmarks-model option) when non-empty, $FACEMIX_LANDMARKS, then
// /usr/share/dlib/shape_predictor_68_face_landmarks.dat (Debian libdlib-data).
// Throws ModelError naming the package when none exists.
std::string resolve_landmarks_model(const std::string& override_path = "");

// Where fast-loading copies of landmark models are kept: $FACEMIX_CACHE_DIR,
// else $XDG_CACHE_HOME/facemix, else $HOME/.cache/facemix ("" when none is set).
std::string landmarks_cache_dir();

// The copy of `model_path` in `cache_dir` (one file per source path).
std::string landmarks_cache_path(const std::string& cache_dir, const std::string& model_path);

class FaceDetector {
 public:
  // requires: landmarks_model is a dlib 68-point shape predictor file
  //           (resolved through resolve_landmarks_model when empty).
  //           cache_dir: where its fast-loading copy is read or written;
  //           unset = landmarks_cache_dir(), "" = no copy (dlib's own loader).
  // ensures:  a copy that is missing or stale (source path, size or time
  //           changed) or unreadable is (re)written atomically; failing to
  //           write it is logged at debug level, never an error.
  // throws:   ModelError when the file is missing or not a shape predictor.
  explicit FaceDetector(const std::string& landmarks_model = "",
                        const std::optional<std::string>& cache_dir = std::nullopt);
  ~FaceDetector();
  FaceDetector(FaceDetector&&) noexcept;
  FaceDetector& operator=(FaceDetector&&) noexcept;

  // requires: image is CV_8UC3 BGR (as returned by read_image).
  // ensures:  every frontal face found, largest box area first (ties: left to
  //           right). Small images are upsampled for the detector so that
  //           faces down to ~40 px wide are found; coordinates always refer to
  //           `image`.
  //           Details: the HOG scan runs on the image scaled to about 2
  //           megapixels: 2x for images up to 0.5 MP, 1x up to 2 MP, scaled
  //           down above that (faces then need to be ~80 px at that scale);
  //           when nothing is found the scan is repeated at twice the scale
  //           while that stays under 4.5 MP. Landmarks are always fitted on
  //           the full-resolution image. A detection scoring below 0.3 and
  //           below half the best score is dropped (dlib's HOG detector fires
  //           weakly on clothing next to a face), unless it is the best one.
  // throws:   Error when the image is not CV_8UC3.
  std::vector<Face> detect(const cv::Mat& image) const;

 private:
  struct Impl;
  Impl* impl_;
};

// Picks face `index` (0 = largest, the order detect() returns) and logs how
// many were found. throws NoFaceError naming `source` when there is none or
// index is out of range.
const Face& select_face(const std::vector<Face>& faces, int index, const std::string& source);

}  // namespace facemix
