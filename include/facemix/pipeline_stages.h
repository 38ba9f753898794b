// The stages of the blend pipeline (pipeline.h), each once: run_blend calls
// them for one request, `facemix batch` for many jobs sharing photos and
// models, `facemix project` for its projections.
//
//   facemix::LocatedFace f = facemix::locate_face(detector, "a.jpg", 0);
//   facemix::AlignedFace crop = facemix::align_face(f.photo, f.face.landmarks, {R});
//   auto ws = facemix::project_photos(gen, {crop.image}, options, {facemix::photo_seed_key("a.jpg", 0)});
//   cv::Mat face = facemix::render_gan_blend(gen, all_ws, rows, 1.0, 1024);
//   cv::Mat out = facemix::paste_rendered_face(detector, facemix::gan_paste_target(f, 1024), face);
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "facemix/align.h"
#include "facemix/face.h"
#include "facemix/generator.h"
#include "facemix/identity.h"
#include "facemix/identity_refine.h"
#include "facemix/image_io.h"
#include "facemix/latent_mix.h"
#include "facemix/latent_store.h"
#include "facemix/morph.h"
#include "facemix/progress.h"
#include "facemix/projector.h"

namespace facemix {

// A photo and the face chosen in it.
struct LocatedFace {
  cv::Mat photo;  // CV_8UC3 BGR, as read_image returns it
  Face face;      // landmarks in the photo's pixels
};

// Reads `path`, detects its faces and picks face `face` (select_face).
// throws: IoError (read_image), NoFaceError, Interrupted.
LocatedFace locate_face(const FaceDetector& detector, const std::string& path, int face,
                        const ImageReadOptions& read = {});

// ---- GAN engine ----------------------------------------------------------------

// The key a photo's projection seed is derived from (image_projection_seed):
// the SHA-256 of its bytes and the face index, so the same photo and face
// always get the same latent, whatever else is projected with it.
std::string photo_seed_key(const std::string& path, int face);

// Projects aligned crops together in one batch, photo k with its own random
// stream image_projection_seed(options.seed, seed_keys[k]).
// requires: faces non-empty, square CV_8UC3; seed_keys.size() == faces.size().
// ensures:  one float32 [1, num_ws, w_dim] contiguous CPU latent per face.
// throws:   Interrupted; UsageError for bad faces (faces_to_targets).
std::vector<torch::Tensor> project_photos(const Generator& generator, const std::vector<cv::Mat>& faces,
                                          const ProjectorOptions& options,
                                          const std::vector<std::string>& seed_keys,
                                          const ProgressCallback& progress = {});

// The sidecar record of latents projected from `model_path` with `options`
// (image and image_sha256 left for the caller, per photo).
LatentRecord latent_record(const std::string& model_path, const std::string& model_sha256,
                           const Generator& generator, int face, const ProjectorOptions& options);

// Mixes the latents with per-row weights, truncates with psi, renders at size.
// requires: as blend_latents and render_face (gan_blend.h).
cv::Mat render_gan_blend(const Generator& generator, const torch::Tensor& ws, const RowWeights& rows, double psi,
                         int size);

// The mixed latent (blend_latents) refined for identity to every input
// (refine_identity, `steps` steps, other options at their defaults): the chip
// lies at the inputs' aligned landmarks averaged with `weights`, the image term
// is the same average of the aligned crops.
// requires: crops (FFHQ-aligned, one per ws row) and their landmarks in the
//           crop's pixels; inputs their descriptors; generator on the CPU.
// throws:   as refine_identity (UsageError, Interrupted).
IdentityRefinement refine_gan_blend(const Generator& generator, const torch::Tensor& ws, const RowWeights& rows,
                                    double psi, const IdentityModel& model, const std::vector<Descriptor>& inputs,
                                    const std::vector<AlignedFace>& crops, const std::vector<double>& weights,
                                    int steps, const ProgressCallback& progress = {});

// Where a rendered face goes back: a photo, its alignment at the face's size,
// and the photo's landmarks in that crop (the paste mask when the rendered
// face's own landmarks cannot be found).
struct PasteTarget {
  cv::Mat photo;
  AlignmentPlan plan;
  Landmarks crop_landmarks;
};

// requires: landmarks of a face in photo; size in [16, 4096].
PasteTarget gan_paste_target(const cv::Mat& photo, const Landmarks& landmarks, int size);

// Pastes a rendered face (size x size, FFHQ frame) into the target photo,
// masked by the face's landmarks as `detector` finds them (blended_face_landmarks).
cv::Mat paste_rendered_face(const FaceDetector& detector, const PasteTarget& target, const cv::Mat& face);

// ---- identity -----------------------------------------------------------------

// What identity work a blend does: none, report the blend's distances to its
// inputs, or also choose the morph weights for them (identity_balance.h).
enum class IdentityMode { kOff, kReport, kBalance };

// --identity: "auto" resolves to kBalance for a single morph image whose
// weights were not given, kReport otherwise, and kOff (with a debug line) when
// no identity model is found; "balance", "report" and "off" are taken as they
// are (balance only changes morph images). `model_path` gets the model to load.
// throws: UsageError for another word; ModelError (find_identity_model) when
//         "balance" or "report" finds no model.
IdentityMode resolve_identity_mode(const std::string& requested, bool weights_given, bool morph_image,
                                   const std::string& model_option, std::string& model_path);

// The descriptor of a located face (its chip cut from the photo itself).
Descriptor describe_located(const IdentityModel& model, const LocatedFace& face);

// The identity figures of a rendered GAN face (FFHQ frame): its face is
// detected and described; nullopt (with a warning) when no face is found.
std::optional<IdentityFigures> gan_blend_identity(const IdentityModel& model, const FaceDetector& detector,
                                                  const cv::Mat& face, const std::vector<Descriptor>& inputs);

// ---- morph engine --------------------------------------------------------------

struct MorphBlend {
  cv::Mat image;                            // pasted back when asked
  MorphMix mix;                             // the weights used (uniform unless balanced)
  std::optional<IdentityFigures> identity;  // with an identity model
};

// Morphs aligned faces with `weights` (or, when `balance`, with the
// identity-balanced mix that starts from them); pastes the result into
// faces[paste_target]'s photo when paste_target >= 0; with an identity model
// reports the blend's distances to `inputs` (measured on the blended crop).
// requires: faces of one size; photos[paste_target] is the photo faces[paste_target]
//           was aligned from (other entries may be empty); with `identity`,
//           inputs.size() == faces.size().
MorphBlend render_morph_blend(const std::vector<AlignedFace>& faces, const std::vector<double>& weights,
                              const std::vector<cv::Mat>& photos, int paste_target,
                              const IdentityModel* identity = nullptr, const std::vector<Descriptor>& inputs = {},
                              bool balance = false);

}  // namespace facemix
