// Internal to src/face: a fast-loading copy of dlib's shape predictor file
// (FaceDetector, facemix/face.h).
//
// dlib stores every float of the 68-point model (16 million of them, 99 MB)
// in a portable variable-length encoding that takes ~1.4 s to parse. The copy
// holds the same numbers as raw little-endian arrays and loads in a fraction
// of that. It lives in the user's cache directory ($FACEMIX_CACHE_DIR, else
// $XDG_CACHE_HOME/facemix, else ~/.cache/facemix), one file per source model,
// keyed by the source's absolute path, size and modification time (a changed
// source is reloaded and its copy rewritten), and written atomically.
//
// A copy is only written after the predictor rebuilt from it serialises to
// exactly the source file's bytes, so a model loaded from the cache is the
// model dlib would have loaded.
#pragma once

#include <string>

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_processing/shape_predictor.h>

namespace facemix::detail {

// The cache directory, "" when no location can be derived ($HOME unset).
std::string landmark_cache_dir();

// The copy's path for `model_path` in `cache_dir`.
std::string landmark_cache_path(const std::string& cache_dir, const std::string& model_path);

// Loads the predictor from the copy when it is current, else from
// `model_path` with dlib (and then writes the copy, when `cache_dir` is not
// empty and the exactness check passes; failures to write are logged, never
// thrown).
// throws: std::exception from dlib when model_path is not a shape predictor.
dlib::shape_predictor load_shape_predictor(const std::string& model_path, const std::string& cache_dir);

// dlib's HOG face detector. get_frontal_face_detector() entropy-decodes the
// model compiled into dlib (~0.4 s); its serialised form, kept in `cache_dir`
// as frontal_face_detector-dlib<version>.dat, loads in milliseconds and is
// the same object (dlib's serialisation is exact). "" = no copy.
dlib::frontal_face_detector load_frontal_face_detector(const std::string& cache_dir);

}  // namespace facemix::detail
