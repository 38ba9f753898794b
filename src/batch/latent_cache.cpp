// The latent cache of `facemix batch` (include/facemix/batch_cache.h).
#include <chrono>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "facemix/batch_cache.h"
#include "facemix/errors.h"
#include "facemix/output.h"
#include "facemix/sha256.h"
#include "facemix/version.h"

namespace fs = std::filesystem;

namespace facemix {

std::string latent_cache_key(const LatentKeyParts& p) {
  ProjectorOptions o = p.options;
  o.image_seeds.clear();
  // The perceptual model enters by content, so the same file under another path hits.
  if (!o.perceptual_model.empty()) o.perceptual_model = "sha256:" + p.perceptual_sha256;
  nlohmann::ordered_json j;
  j["format"] = "facemix-latent-cache";
  j["version"] = 1;
  j["facemix"] = version_line();  // the projector's code is part of what a latent is a function of
  j["image_sha256"] = p.image_sha256;
  j["face"] = p.face;
  j["model_sha256"] = p.model_sha256;
  j["landmarks_sha256"] = p.landmarks_sha256;
  j["align_size"] = p.img_resolution;
  j["projection"] = nlohmann::json::parse(to_json(o, p.img_resolution));
  return sha256_hex(j.dump());
}

LatentCache::LatentCache(std::string dir) : dir_(std::move(dir)) { ensure_output_directory(dir_, "--cache"); }

std::string LatentCache::npz_path(const std::string& key) const {
  return (fs::path(dir_) / key.substr(0, 2) / (key + ".npz")).string();
}

std::optional<torch::Tensor> LatentCache::load(const std::string& key, const GeneratorConfig& config,
                                               const std::string& model_sha256) const {
  const std::string npz = npz_path(key);
  const std::string sidecar = latent_sidecar_path(npz);
  std::error_code ec;
  if (!fs::is_regular_file(sidecar, ec)) return std::nullopt;  // the sidecar commits an entry
  try {
    torch::Tensor w = load_latent_for_model(npz, config, model_sha256);
    fs::last_write_time(sidecar, fs::file_time_type::clock::now(), ec);  // "last used", for pruning
    return w;
  } catch (const Error& e) {
    spdlog::warn("latent cache: {} (projecting the photo again)", e.what());
    return std::nullopt;
  }
}

void LatentCache::store(const std::string& key, const torch::Tensor& w, const LatentRecord& rec) const {
  const fs::path sub = fs::path(dir_) / key.substr(0, 2);
  std::error_code ec;
  fs::create_directories(sub, ec);
  if (!fs::is_directory(sub, ec)) throw IoError(sub.string() + ": cannot create latent cache directory");
  save_latent(npz_path(key), w, rec);  // npz first, then the sidecar
}

PruneStats prune_latent_cache(const std::string& dir, std::int64_t max_age_seconds) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw IoError(dir + ": --cache: not a directory");
  const auto now = fs::file_time_type::clock::now();
  const auto entry_limit = now - std::chrono::seconds(max_age_seconds);
  const auto temp_limit = now - std::chrono::hours(1);
  static const std::regex key_name("[0-9a-f]{64}\\.(npz|json)");
  static const std::regex temp_name("\\..*\\.facemix-[0-9a-f]{16}\\.tmp.*");
  PruneStats stats;
  for (const auto& sub : fs::directory_iterator(dir, ec)) {
    if (!sub.is_directory(ec)) continue;
    // Listed first: removing while iterating a directory is unspecified.
    const std::vector<fs::directory_entry> listed(fs::directory_iterator(sub.path(), ec), fs::directory_iterator{});
    for (const auto& e : listed) {
      const std::string name = e.path().filename().string();
      const auto mtime = fs::last_write_time(e.path(), ec);
      if (ec) continue;
      if (std::regex_match(name, temp_name)) {
        if (mtime < temp_limit && fs::remove(e.path(), ec)) ++stats.temp_files_removed;
        continue;
      }
      if (!std::regex_match(name, key_name)) continue;
      if (e.path().extension() == ".npz") {
        if (!fs::exists(latent_sidecar_path(e.path().string()), ec) && mtime < temp_limit &&
            fs::remove(e.path(), ec))
          ++stats.temp_files_removed;
        continue;
      }
      // A sidecar: the entry's commit mark and "last used" time.
      if (max_age_seconds == 0 || mtime < entry_limit) {
        // Sidecar first: the entry stops existing before its data goes.
        fs::remove(e.path(), ec);
        fs::path npz = e.path();
        npz.replace_extension(".npz");
        fs::remove(npz, ec);
        ++stats.entries_removed;
      } else {
        ++stats.entries_kept;
      }
    }
  }
  return stats;
}

}  // namespace facemix
