// Face identity: dlib's face recognition ResNet v1 (128-d descriptors; two
// faces are "the same person" below Euclidean distance 0.6) in LibTorch.
//
//   facemix::IdentityModel m = facemix::load_identity_model(facemix::find_identity_model(""));
//   cv::Mat chip = facemix::face_chip(photo, face.landmarks);     // 150x150 BGR
//   facemix::Descriptor d = facemix::describe_chips(m, {chip})[0];
//   double dist = facemix::descriptor_distance(d, other);       // < 0.6: same person
//
// Model files, recognised by content (load_identity_model):
//   - a facemix identity model: .safetensors with __metadata__ format
//     "facemix-identity" (scripts/convert_weights.py writes one from face-api's files);
//   - face-api's tfjs weights manifest (face_recognition_model-weights_manifest.json
//     with its .bin shard beside it), the form facemix ships in models/;
//   - dlib's own dlib_face_recognition_resnet_model_v1.dat, read with dlib's
//     deserialiser.
// Tensors are named by IdentityNet's parameter keys (conv32_down.conv.weight,
// conv64_down.conv1.scale.bias, fc.weight, ...). Each source keeps its own input
// normalisation: (RGB - mean) / 255 for face-api, / 256 for dlib.
//
// The model is read-only after loading and may be shared by threads;
// describe_chips() runs under InferenceMode. IdentityNet's forward() is plain
// differentiable Torch, for callers that optimise through it.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "facemix/face.h"

namespace facemix {

namespace identity {
class ConvLayerImpl;
class ResidualBlockImpl;
}  // namespace identity

constexpr const char* kIdentityModelFormat = "facemix-identity";
constexpr const char* kIdentityModelFormatVersion = "1";
constexpr int kIdentityChipSize = 150;        // dlib's chip for this network
constexpr double kIdentityChipPadding = 0.25;  // dlib's default padding around the face
constexpr double kSamePersonThreshold = 0.6;   // dlib's published threshold
constexpr double kStrictSamePersonThreshold = 0.5;
constexpr int kDescriptorSize = 128;

using Descriptor = std::array<float, kDescriptorSize>;

// What the network subtracts from and divides the 0..255 RGB input by.
struct IdentityNormalisation {
  std::array<double, 3> mean_rgb{122.782, 117.001, 104.298};
  double scale = 255.0;
};

// The network: 7x7/2 conv, 3x3/2 max-pool, residual blocks at 32, 64, 128 and
// 256 channels (the *_down blocks halve the grid; their shortcut is a 2x2
// average pool, zero-padded in channels and the residual zero-padded in size
// where they differ), global average pool, 256x128 matrix. Every conv is
// followed by a per-channel affine "scale" layer.
class IdentityNetImpl : public torch::nn::Module {
 public:
  explicit IdentityNetImpl(IdentityNormalisation normalisation = {});

  // requires: chips float32 [N, 3, 150, 150], RGB values 0..255.
  // ensures:  [N, 128] descriptors (not normalised), differentiable w.r.t. chips.
  torch::Tensor forward(const torch::Tensor& chips) const;

  const IdentityNormalisation& normalisation() const { return normalisation_; }

 private:
  IdentityNormalisation normalisation_;
  std::shared_ptr<identity::ConvLayerImpl> stem_;               // conv32_down
  std::vector<std::shared_ptr<identity::ResidualBlockImpl>> blocks_;  // conv32_1 .. conv256_down_out
  torch::Tensor fc_weight_;  // "fc.weight", [128, 256]
};
TORCH_MODULE(IdentityNet);

struct IdentityModel {
  IdentityNet net{nullptr};
  std::string path;
  std::string source_format;  // "facemix-identity", "face-api tfjs manifest" or "dlib .dat"
  std::map<std::string, std::string> metadata;  // the file's metadata (safetensors) or what we know
};

// Where the identity model is looked for: `override_path` (--identity-model)
// when non-empty, $FACEMIX_IDENTITY_MODEL, then in each models/ directory
// (default_model_dirs()): a facemix-identity .safetensors (name order), face-api's
// face_recognition_model-weights_manifest.json, dlib_face_recognition_resnet_model_v1.dat.
// throws: ModelError listing where it looked when nothing is found.
std::string find_identity_model(const std::string& override_path);

// Loads any of the three forms above, recognised by content.
// ensures: every parameter of IdentityNet came from the file, with its shape;
//          requires_grad false; CPU.
// throws:  ModelError naming the file for a missing, unreadable, truncated or
//          malformed file, a newer format version, a missing, unexpected or
//          misshaped tensor, non-finite weights, or a manifest that disagrees
//          with its shard.
IdentityModel load_identity_model(const std::string& path);

// The IdentityNet key a face-api weight name maps to ("conv32_1/conv1/scale/weights"
// -> "conv32_1.conv1.scale.weight", "fc" -> "fc.weight"). Pure; throws
// ModelError for a name of another shape.
std::string identity_key_for_faceapi(const std::string& faceapi_name);

// Writes `model`'s weights as dlib's face recognition .dat (dlib's serialiser),
// e.g. for dlib-based tools. Atomic.
// throws: IoError when the file cannot be written.
void save_dlib_identity_model(const IdentityModel& model, const std::string& path);

// Descriptors computed by dlib's own network code from a .dat file: the
// reference the LibTorch network is checked against. `chips` as face_chip().
std::vector<Descriptor> describe_chips_with_dlib(const std::string& dat_path,
                                                 const std::vector<cv::Mat>& chips);

// dlib's standard chip for this network: get_face_chip_details(landmarks, 150,
// 0.25) and extract_image_chip (bilinear, with a pyramid when shrinking a lot).
// requires: image CV_8UC3 BGR; landmarks in its pixel coordinates.
// ensures:  150x150 CV_8UC3 BGR.
cv::Mat face_chip(const cv::Mat& image, const Landmarks& landmarks);

// float32 [N, 3, 150, 150] RGB 0..255 from BGR chips. requires: every chip 150x150 CV_8UC3.
torch::Tensor chips_to_tensor(const std::vector<cv::Mat>& chips);

// Descriptors of the chips, in batches, under InferenceMode.
std::vector<Descriptor> describe_chips(const IdentityModel& model, const std::vector<cv::Mat>& chips);

// The descriptor of the face with `landmarks` in `image` (face_chip + describe_chips).
Descriptor describe_face(const IdentityModel& model, const cv::Mat& image, const Landmarks& landmarks);

// Euclidean distance between two descriptors.
double descriptor_distance(const Descriptor& a, const Descriptor& b);

}  // namespace facemix
