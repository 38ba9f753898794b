// Identity model files: discovery, recognition by content, the facemix-identity
// safetensors reader, and the one place tensors enter the network.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "facemix/errors.h"
#include "facemix/identity.h"
#include "facemix/model_file.h"
#include "facemix/safetensors.h"
#include "identity/loading.h"

namespace fs = std::filesystem;

namespace facemix {
namespace identity {

IdentityModel assemble_identity_model(const std::string& path, const std::string& source_format,
                                      const std::map<std::string, torch::Tensor>& tensors,
                                      const IdentityNormalisation& normalisation,
                                      std::map<std::string, std::string> metadata) {
  IdentityModel model;
  model.net = IdentityNet(normalisation);
  model.path = path;
  model.source_format = source_format;
  model.metadata = std::move(metadata);
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  for (auto& p : model.net->named_parameters()) {
    auto it = tensors.find(p.key());
    if (it == tensors.end()) throw ModelError(path + ": identity model lacks tensor " + p.key());
    const torch::Tensor& t = it->second;
    if (t.sizes() != p.value().sizes())
      throw ModelError(path + ": tensor " + p.key() + " has shape " + c10::str(t.sizes()) + ", the network needs " +
                       c10::str(p.value().sizes()));
    if (!torch::isfinite(t).all().item<bool>()) throw ModelError(path + ": tensor " + p.key() + " has non-finite values");
    p.value().copy_(t.to(torch::kFloat32));
    used.insert(p.key());
  }
  for (const auto& [name, t] : tensors)
    if (!used.count(name)) throw ModelError(path + ": unexpected tensor " + name + " for the identity network");
  model.net->eval();
  return model;
}

bool looks_like_dlib_dat(const std::string& head) {
  // dlib serialises a std::string as a compressed length byte followed by its bytes.
  return head.find("loss_metric_") != std::string::npos && head.find("loss_metric_") < 8;
}

}  // namespace identity

namespace {

std::string read_head(const std::string& path, std::size_t n) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ModelError(path + ": cannot open the identity model");
  std::string head(n, '\0');
  f.read(head.data(), static_cast<std::streamsize>(n));
  head.resize(static_cast<std::size_t>(f.gcount()));
  return head;
}

IdentityNormalisation parse_normalisation(const std::map<std::string, std::string>& meta, const std::string& path) {
  IdentityNormalisation n;
  try {
    auto mean = meta.find("input_mean_rgb");
    if (mean != meta.end()) {
      std::stringstream ss(mean->second);
      std::string field;
      for (double& m : n.mean_rgb) {
        if (!std::getline(ss, field, ',')) throw std::invalid_argument("three numbers needed");
        m = std::stod(field);
      }
    }
    auto scale = meta.find("input_scale");
    if (scale != meta.end()) n.scale = std::stod(scale->second);
  } catch (const std::exception&) {
    throw ModelError(path + ": identity model metadata input_mean_rgb/input_scale is not numeric");
  }
  if (!(n.scale > 0)) throw ModelError(path + ": identity model input_scale must be positive");
  return n;
}

IdentityModel load_identity_safetensors(const std::string& path) {
  const SafetensorsFile f = SafetensorsFile::open(path);
  const auto& meta = f.metadata();
  auto format = meta.find("format");
  if (format == meta.end() || format->second != kIdentityModelFormat)
    throw ModelError(path + ": not a facemix identity model (metadata format is not \"" +
                     std::string(kIdentityModelFormat) + "\")");
  auto version = meta.find("version");
  if (version == meta.end()) throw ModelError(path + ": identity model metadata lacks a version");
  if (version->second != kIdentityModelFormatVersion)
    throw ModelError(path + ": identity model format version " + version->second + " is not supported (facemix reads " +
                     kIdentityModelFormatVersion + ")");
  std::map<std::string, torch::Tensor> tensors;
  for (const TensorRecord& r : f.records()) tensors[r.name] = f.tensor(r);
  return identity::assemble_identity_model(path, kIdentityModelFormat, tensors, parse_normalisation(meta, path),
                                           meta);
}

constexpr const char* kFaceApiManifestName = "face_recognition_model-weights_manifest.json";
constexpr const char* kDlibDatName = "dlib_face_recognition_resnet_model_v1.dat";

std::string find_identity_model_in(const std::string& dir) {
  std::string found = find_safetensors_of_format(dir, kIdentityModelFormat);
  if (!found.empty()) return found;
  std::error_code ec;
  for (const char* name : {kFaceApiManifestName, kDlibDatName}) {
    const fs::path p = fs::path(dir) / name;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

}  // namespace

std::string find_identity_model(const std::string& override_path) {
  if (!override_path.empty()) return override_path;
  const char* env = std::getenv("FACEMIX_IDENTITY_MODEL");
  if (env && *env) return env;
  const auto dirs = default_model_dirs();
  for (const auto& dir : dirs) {
    std::string found = find_identity_model_in(dir);
    if (!found.empty()) return found;
  }
  std::string where = "--identity-model (not given), $FACEMIX_IDENTITY_MODEL (not set)";
  for (const auto& d : dirs) where += ", " + d;
  throw ModelError("no identity model found; looked at " + where +
                   ". facemix ships one in models/ (see models/README.md)");
}

IdentityModel load_identity_model(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ModelError(path + ": no such identity model file");
  if (!fs::is_regular_file(path, ec)) throw ModelError(path + ": the identity model is not a regular file");
  const std::string head = read_head(path, 64);
  if (identity::looks_like_dlib_dat(head)) return identity::load_dlib_dat(path);
  const auto first = head.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && head[first] == '[') return identity::load_faceapi_manifest(path);
  return load_identity_safetensors(path);
}

double descriptor_distance(const Descriptor& a, const Descriptor& b) {
  double sum = 0.0;
  for (int i = 0; i < kDescriptorSize; ++i) {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    sum += d * d;
  }
  return std::sqrt(sum);
}

}  // namespace facemix
