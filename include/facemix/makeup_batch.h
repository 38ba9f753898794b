// Makeup in batch: one reference's makeup onto every photo of a folder
// (`facemix batch --makeup REFERENCE DIR -o OUT_DIR`). The batch runner only
// dispatches; the jobs and their work are defined here.
//
//   auto photos = facemix::list_photos("photos/", false, "out/");
//   auto jobs = facemix::makeup_jobs("look.jpg", photos, "photos/", "out/", ".png");
//   facemix::MakeupJobRunner runner({});
//   cv::Mat out = runner.render(jobs[0], detector);   // the caller writes jobs[0].output
#pragma once

#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "facemix/batch.h"
#include "facemix/face.h"
#include "facemix/makeup.h"

namespace facemix {

struct MakeupJobSettings {
  int size = 1024;        // aligned crop the transfer works on
  int face = 0;           // which face of each photo (and of the reference)
  MakeupOptions options;  // parts
  double amount = 1.0;    // 0..1
};

// One job per photo: inputs {reference, photo}, output
// out_dir/<photo name><extension> (names as photo_names()). The reference
// itself is left out when it is one of the photos.
// throws: UsageError for an extension write_image does not know.
std::vector<BatchJob> makeup_jobs(const std::string& reference, const std::vector<std::string>& photos,
                                  const std::string& photos_root, const std::string& out_dir,
                                  const std::string& extension);

// Renders makeup jobs; the reference is read, detected and aligned once, on
// the first job (its failure fails every job with the same one line).
// Thread-safe: render() may run on several threads, each with its detector.
class MakeupJobRunner {
 public:
  // throws: UsageError when settings.amount is outside 0..1.
  explicit MakeupJobRunner(const MakeupJobSettings& settings);

  // requires: job.inputs == {reference, photo}.
  // ensures:  the photo at full resolution wearing the reference's makeup.
  // throws:   as load_makeup_face() for either input.
  cv::Mat render(const BatchJob& job, const FaceDetector& detector);

 private:
  const MakeupFace& reference(const std::string& path, const FaceDetector& detector);

  MakeupJobSettings settings_;
  std::mutex mutex_;
  std::string reference_path_;
  std::unique_ptr<MakeupFace> reference_;
  std::exception_ptr reference_error_;
};

}  // namespace facemix
