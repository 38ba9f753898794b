#include "facemix/latent_store.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "facemix/errors.h"
#include "facemix/latents.h"
#include "facemix/output.h"
#include "facemix/version.h"

namespace fs = std::filesystem;

namespace facemix {
namespace {

constexpr const char* kSidecarFormat = "facemix-latent";
constexpr int kSidecarVersion = 1;

std::string lower_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

std::string dims(int64_t a, int64_t b) { return "[" + std::to_string(a) + ", " + std::to_string(b) + "]"; }

// The model hash a sidecar records, "" when there is no sidecar.
std::string sidecar_model_hash(const std::string& latent_path) {
  const std::string side = latent_sidecar_path(latent_path);
  if (!fs::exists(side)) return "";
  std::ifstream in(side, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) throw ModelError(side + ": cannot read the latent's sidecar");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception&) {
    throw ModelError(side + ": the latent's sidecar is not valid JSON");
  }
  // j.value() throws on a non-string "format": test the type first.
  const auto format = j.is_object() ? j.find("format") : j.end();
  if (!j.is_object() || format == j.end() || !format->is_string() || *format != kSidecarFormat ||
      !j.contains("model_sha256") ||
      !j["model_sha256"].is_string())
    throw ModelError(side + ": not a facemix latent sidecar (format facemix-latent with model_sha256)");
  return j["model_sha256"].get<std::string>();
}

}  // namespace

std::string latent_sidecar_path(const std::string& npz_path) {
  return fs::path(npz_path).replace_extension(".json").string();
}

bool is_latent_path(const std::string& path) {
  const std::string ext = lower_extension(path);
  return ext == ".npz" || ext == ".npy";
}

void save_latent(const std::string& npz_path, const torch::Tensor& w, const LatentRecord& rec) {
  if (w.dim() != 3 || w.size(0) != 1 || w.size(1) != rec.num_ws || w.size(2) != rec.w_dim)
    throw UsageError("save_latent: w must be [1, " + std::to_string(rec.num_ws) + ", " + std::to_string(rec.w_dim) +
                     "]");
  nlohmann::ordered_json j;
  j["format"] = kSidecarFormat;
  j["version"] = kSidecarVersion;
  j["image"] = rec.image;
  j["image_sha256"] = rec.image_sha256;
  j["face"] = rec.face;
  j["model"] = rec.model;
  j["model_sha256"] = rec.model_sha256;
  j["num_ws"] = rec.num_ws;
  j["w_dim"] = rec.w_dim;
  j["projection"] = rec.projection_json.empty() ? nlohmann::ordered_json::object()
                                                : nlohmann::ordered_json::parse(rec.projection_json);
  j["facemix_version"] = version_line();
  write_latents_npz(npz_path, w.detach().to(torch::kCPU, torch::kFloat32).contiguous());
  try {
    write_bytes_atomic(latent_sidecar_path(npz_path), j.dump(2) + "\n");
  } catch (...) {
    std::error_code ec;
    fs::remove(npz_path, ec);  // no latent without its record
    throw;
  }
}

torch::Tensor load_latent_for_model(const std::string& path, const GeneratorConfig& config,
                                    const std::string& model_sha256) {
  torch::Tensor w = read_latents(path);  // ModelError naming path
  const int num_ws = config.num_ws(), w_dim = config.w_dim;
  if (w.size(0) != 1)
    throw ModelError(path + ": holds " + std::to_string(w.size(0)) + " latents; one per file is expected");
  if (w.dim() == 2) {
    if (w.size(1) != w_dim)
      throw ModelError(path + ": latent of shape " + dims(w.size(0), w.size(1)) + " does not fit this model (w_dim " +
                       std::to_string(w_dim) + "): it was made with another model");
    w = w.unsqueeze(1).expand({1, num_ws, w_dim});
  } else if (w.size(1) != num_ws || w.size(2) != w_dim) {
    throw ModelError(path + ": latent of shape [1, " + std::to_string(w.size(1)) + ", " + std::to_string(w.size(2)) +
                     "] does not fit this model ([1, " + std::to_string(num_ws) + ", " + std::to_string(w_dim) +
                     "]): it was made with another model");
  }
  if (!torch::isfinite(w).all().item<bool>()) throw ModelError(path + ": latent holds NaN or infinite values");
  if (!model_sha256.empty()) {
    const std::string recorded = sidecar_model_hash(path);
    if (!recorded.empty() && recorded != model_sha256)
      throw ModelError(path + ": made with another model (sidecar model_sha256 " + recorded.substr(0, 12) +
                       "..., this model " + model_sha256.substr(0, 12) + "...)");
  }
  return w.contiguous();
}

}  // namespace facemix
