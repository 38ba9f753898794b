// Makeup jobs for the batch runner: one reference onto many photos.
#include "facemix/makeup_batch.h"

#include <filesystem>

#include "facemix/errors.h"
#include "facemix/image_io.h"
#include "facemix/progress.h"

namespace fs = std::filesystem;

namespace facemix {

std::vector<BatchJob> makeup_jobs(const std::string& reference, const std::vector<std::string>& photos,
                                  const std::string& photos_root, const std::string& out_dir,
                                  const std::string& extension) {
  check_image_output_extension("x" + extension);
  std::error_code ec;
  const fs::path ref = fs::weakly_canonical(reference, ec);
  std::vector<std::string> others;
  for (const auto& p : photos)
    if (fs::weakly_canonical(p, ec) != ref) others.push_back(p);
  const std::vector<std::string> names = photo_names(others, photos_root);
  std::vector<BatchJob> jobs;
  for (std::size_t i = 0; i < others.size(); ++i) {
    BatchJob job;
    job.inputs = {reference, others[i]};
    job.output = (fs::path(out_dir) / (names[i] + extension)).lexically_normal().string();
    jobs.push_back(std::move(job));
  }
  return jobs;
}

MakeupJobRunner::MakeupJobRunner(const MakeupJobSettings& settings) : settings_(settings) {
  if (!(settings.amount >= 0 && settings.amount <= 1))
    throw UsageError("--amount " + std::to_string(settings.amount) + ": must be in 0..1");
}

const MakeupFace& MakeupJobRunner::reference(const std::string& path, const FaceDetector& detector) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (reference_path_ != path) {  // a batch has one reference; a new one replaces it
    reference_path_ = path;
    reference_.reset();
    reference_error_ = nullptr;
    try {
      reference_ = std::make_unique<MakeupFace>(load_makeup_face(detector, path, settings_.face, settings_.size));
    } catch (const Interrupted&) {
      reference_path_.clear();
      throw;
    } catch (...) {
      reference_error_ = std::current_exception();
    }
  }
  if (reference_error_) std::rethrow_exception(reference_error_);
  return *reference_;
}

cv::Mat MakeupJobRunner::render(const BatchJob& job, const FaceDetector& detector) {
  if (job.inputs.size() != 2) throw UsageError(job.output + ": a makeup job has a reference and a photo");
  const MakeupFace& ref = reference(job.inputs[0], detector);
  const MakeupFace photo = load_makeup_face(detector, job.inputs[1], settings_.face, settings_.size);
  check_interrupt();
  const AlignedMakeup m = transfer_makeup({ref.aligned.image, ref.aligned.landmarks},
                                          {photo.aligned.image, photo.aligned.landmarks}, settings_.options);
  return paste_makeup(photo, m, settings_.amount);
}

}  // namespace facemix
