// Loading a face for makeup (read, detect, refuse profiles, align) and
// pasting the makeup back into the photo at its full resolution.
#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "facemix/makeup.h"
#include "facemix/paste_back.h"
#include "facemix/progress.h"

namespace facemix {
namespace {

// Nose tip to each side of the jaw at cheekbone height: about equal on a
// frontal face, very unequal once the head turns towards profile.
double frontal_balance(const Landmarks& lm) {
  const double left = cv::norm(lm[30] - lm[2]), right = cv::norm(lm[30] - lm[14]);
  return std::min(left, right) / std::max({left, right, 1e-9});
}

}  // namespace

// Below this the far half of the face is too foreshortened for its regions.
constexpr double kMinFrontalBalance = 0.35;

MakeupFace load_makeup_face(const FaceDetector& detector, const std::string& path, int face_index, int size,
                            const ImageReadOptions& read_options) {
  MakeupFace f;
  f.photo = read_image(path, read_options);
  check_interrupt();
  const std::vector<Face> faces = detector.detect(f.photo);
  const Face& face = select_face(faces, face_index, path);
  const double balance = frontal_balance(face.landmarks);
  if (balance < kMinFrontalBalance)
    throw NoFaceError(path + ": the face is turned too far to the side for makeup (frontal balance " +
                      std::to_string(balance).substr(0, 4) + ", needs " + std::to_string(kMinFrontalBalance).substr(0, 4) +
                      "); use a frontal photo");
  check_interrupt();
  AlignOptions options;
  options.output_size = size;
  f.aligned = align_face(f.photo, face.landmarks, options);
  return f;
}

cv::Mat paste_makeup(const MakeupFace& photo, const AlignedMakeup& makeup, double amount) {
  if (!(amount >= 0 && amount <= 1)) throw UsageError("--amount " + std::to_string(amount) + ": must be in 0..1");
  if (amount == 0) return photo.photo.clone();
  return paste_back_change(photo.photo, photo.aligned.alignment, makeup.change, photo.aligned.landmarks, amount);
}

}  // namespace facemix
