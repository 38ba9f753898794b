// The pipeline's stages (include/facemix/pipeline_stages.h), shared by the
// main form, batch and project.
#include <filesystem>

#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "facemix/gan_blend.h"
#include "facemix/identity_balance.h"
#include "facemix/paste_back.h"
#include "facemix/pipeline_stages.h"
#include "facemix/sha256.h"

namespace fs = std::filesystem;

namespace facemix {

LocatedFace locate_face(const FaceDetector& detector, const std::string& path, int face,
                        const ImageReadOptions& read) {
  check_interrupt();
  LocatedFace out;
  out.photo = read_image(path, read);
  const std::vector<Face> found = detector.detect(out.photo);
  out.face = select_face(found, face, path);
  check_interrupt();
  return out;
}

std::string photo_seed_key(const std::string& path, int face) {
  return sha256_file_hex(path) + "#" + std::to_string(face);
}

std::vector<torch::Tensor> project_photos(const Generator& generator, const std::vector<cv::Mat>& faces,
                                          const ProjectorOptions& options,
                                          const std::vector<std::string>& seed_keys,
                                          const ProgressCallback& progress) {
  if (seed_keys.size() != faces.size()) throw std::invalid_argument("project_photos: one seed key per face");
  const torch::Tensor targets =
      faces_to_targets(faces, generator->config().img_resolution).to(generator->w_avg().device());
  ProjectorOptions seeded = options;  // each photo's own random stream: same photo, same latent
  seeded.image_seeds.clear();
  for (const auto& key : seed_keys) seeded.image_seeds.push_back(image_projection_seed(options.seed, key));
  const ProjectionResult result = project(generator, targets, seeded, progress);
  std::vector<torch::Tensor> ws;
  for (std::size_t k = 0; k < faces.size(); ++k)
    ws.push_back(result.ws.narrow(0, static_cast<int64_t>(k), 1).cpu().contiguous());
  return ws;
}

LatentRecord latent_record(const std::string& model_path, const std::string& model_sha256,
                           const Generator& generator, int face, const ProjectorOptions& options) {
  LatentRecord rec;
  rec.model = fs::path(model_path).filename().string();
  rec.model_sha256 = model_sha256;
  rec.num_ws = generator->num_ws();
  rec.w_dim = generator->config().w_dim;
  rec.face = face;
  rec.projection_json = to_json(options, generator->config().img_resolution);
  return rec;
}

cv::Mat render_gan_blend(const Generator& generator, const torch::Tensor& ws, const RowWeights& rows, double psi,
                         int size) {
  check_interrupt();
  return render_face(generator, blend_latents(generator, ws, rows, psi), size);
}

IdentityRefinement refine_gan_blend(const Generator& generator, const torch::Tensor& ws, const RowWeights& rows,
                                    double psi, const IdentityModel& model, const std::vector<Descriptor>& inputs,
                                    const std::vector<AlignedFace>& crops, const std::vector<double>& weights,
                                    int steps, const ProgressCallback& progress) {
  const int R = generator->config().img_resolution;
  std::vector<Landmarks> landmarks;
  std::vector<cv::Mat> images;
  for (const AlignedFace& c : crops) {
    const double scale = static_cast<double>(R) / c.image.cols;  // pixel centres: (x + 0.5) s - 0.5
    Landmarks l;
    for (std::size_t k = 0; k < l.size(); ++k) l[k] = (c.landmarks[k] + cv::Point2d(0.5, 0.5)) * scale - cv::Point2d(0.5, 0.5);
    landmarks.push_back(l);
    images.push_back(c.image);
  }
  IdentityRefineOptions o;
  o.steps = steps;
  return refine_identity(generator, blend_latents(generator, ws, rows, psi), model, inputs,
                         chip_placement(expected_landmarks(landmarks, weights), R),
                         blend_image_target(faces_to_targets(images, R), weights), o, progress);
}

PasteTarget gan_paste_target(const cv::Mat& photo, const Landmarks& landmarks, int size) {
  PasteTarget t;
  t.photo = photo;
  // The photo's alignment at the output size (the rendered face's frame).
  t.plan = plan_ffhq_alignment(landmarks, photo.size(), AlignOptions{size});
  for (std::size_t k = 0; k < landmarks.size(); ++k) t.crop_landmarks[k] = t.plan.to_aligned(landmarks[k]);
  return t;
}

cv::Mat paste_rendered_face(const FaceDetector& detector, const PasteTarget& target, const cv::Mat& face) {
  return paste_back(target.photo, target.plan, face, blended_face_landmarks(detector, face, target.crop_landmarks));
}

MorphBlend render_morph_blend(const std::vector<AlignedFace>& faces, const std::vector<double>& weights,
                              const std::vector<cv::Mat>& photos, int paste_target, const IdentityModel* identity,
                              const std::vector<Descriptor>& inputs, bool balance) {
  std::vector<MorphFace> morph;
  for (const auto& f : faces) morph.push_back({f.image, f.landmarks});
  check_interrupt();
  MorphBlend out;
  out.mix = MorphMix::uniform(weights);
  if (identity && balance) {
    const IdentityBalance b = balance_identity(morph, inputs, *identity, weights);
    spdlog::debug("identity balance: {} candidates", b.candidates);
    out.mix = b.mix;
  }
  const MorphResult r = Morpher(morph, out.mix.shape).render(out.mix);
  if (identity) out.identity = identity_figures(describe_morph(*identity, r), inputs);
  if (paste_target < 0) {
    out.image = r.image;
  } else {
    const std::size_t t = static_cast<std::size_t>(paste_target);
    out.image = paste_back(photos.at(t), faces.at(t).alignment, r.image, r.landmarks);
  }
  return out;
}

IdentityMode resolve_identity_mode(const std::string& requested, bool weights_given, bool morph_image,
                                   const std::string& model_option, std::string& model_path) {
  model_path.clear();
  if (requested == "off") return IdentityMode::kOff;
  if (requested != "auto" && requested != "balance" && requested != "report")
    throw UsageError("--identity " + requested + ": expected auto, balance, report or off");
  if (requested == "auto") {
    try {
      model_path = find_identity_model(model_option);
    } catch (const ModelError& e) {
      spdlog::debug("no identity figures: {}", e.what());
      return IdentityMode::kOff;
    }
    return morph_image && !weights_given ? IdentityMode::kBalance : IdentityMode::kReport;
  }
  model_path = find_identity_model(model_option);
  return requested == "balance" ? IdentityMode::kBalance : IdentityMode::kReport;
}

Descriptor describe_located(const IdentityModel& model, const LocatedFace& face) {
  return describe_face(model, face.photo, face.face.landmarks);
}

std::optional<IdentityFigures> gan_blend_identity(const IdentityModel& model, const FaceDetector& detector,
                                                  const cv::Mat& face, const std::vector<Descriptor>& inputs) {
  const std::vector<Face> found = detector.detect(face);
  if (found.empty()) {
    spdlog::warn("identity: no face found in the rendered blend; no identity figures");
    return std::nullopt;
  }
  return identity_figures(describe_face(model, face, found.front().landmarks), inputs);
}

}  // namespace facemix
