#include "facemix/gan_blend.h"

#include <cmath>

#include <spdlog/spdlog.h>

#include "facemix/align.h"
#include "facemix/errors.h"
#include "facemix/gan_image.h"

namespace facemix {

torch::Tensor faces_to_targets(const std::vector<cv::Mat>& faces, int resolution) {
  if (faces.empty()) throw UsageError("faces_to_targets: no faces");
  std::vector<torch::Tensor> batch;
  for (const cv::Mat& f : faces) {
    if (f.empty() || f.type() != CV_8UC3 || f.rows != f.cols)
      throw UsageError("faces_to_targets: a face is not a square 8-bit BGR image");
    const cv::Mat sized = f.rows == resolution ? f : resize_antialias(f, {resolution, resolution});
    batch.push_back(bgr_to_generator_image(sized));
  }
  return torch::cat(batch, 0);
}

torch::Tensor blend_latents(const Generator& g, const torch::Tensor& ws, const RowWeights& rows, double psi) {
  if (!std::isfinite(psi)) throw UsageError("--truncation must be a finite number");
  const torch::Tensor mixed = mix_latents(ws, rows);
  if (psi == 1.0) return mixed;
  torch::InferenceMode guard;  // rendering side: no gradient anywhere here
  return g->truncate(mixed.to(g->w_avg().device()), psi).to(mixed.device());
}

cv::Mat render_face(const Generator& g, const torch::Tensor& w, int size) {
  const auto& c = g->config();
  if (w.dim() != 3 || w.size(0) != 1 || w.size(1) != c.num_ws() || w.size(2) != c.w_dim)
    throw UsageError("render_face: w must be [1, num_ws, w_dim]");
  if (size < 16 || size > 4096) throw UsageError("render_face: size " + std::to_string(size) + " out of range");
  cv::Mat bgr;
  {
    torch::InferenceMode guard;
    const torch::Tensor img = g->synthesis(w.to(g->w_avg().device()));
    bgr = generator_image_to_bgr(img[0]);
  }
  if (bgr.rows != size) bgr = resize_antialias(bgr, {size, size});
  return bgr;
}

Landmarks blended_face_landmarks(const FaceDetector& detector, const cv::Mat& face, const Landmarks& fallback) {
  const std::vector<Face> found = detector.detect(face);
  if (!found.empty()) {
    const cv::Point2d c(found[0].box.x + found[0].box.width / 2, found[0].box.y + found[0].box.height / 2);
    if (std::abs(c.x - face.cols / 2.0) < face.cols / 4.0 && std::abs(c.y - face.rows / 2.0) < face.rows / 4.0)
      return found[0].landmarks;
  }
  spdlog::debug("no face found in the blended image: paste-back uses the target photo's landmarks");
  return fallback;
}

}  // namespace facemix
