// Saved projections: one latent per .npz file (key "w", float32
// [1, num_ws, w_dim], NVIDIA's projected_w.npz layout) and a JSON sidecar
// beside it (same name, .json) recording where it came from.
//
//   facemix::LatentRecord rec{...};                       // image/model hashes, settings
//   facemix::save_latent("out/alice.npz", ws_row, rec);   // writes alice.npz + alice.json
//   torch::Tensor ws = facemix::load_latent_for_model("out/alice.npz", g->config(), model_sha);
//
// Sidecar JSON: {"format": "facemix-latent", "version": 1, "image": name,
// "image_sha256", "face", "model": name, "model_sha256", "num_ws", "w_dim",
// "projection": {ProjectorOptions as to_json}, "facemix_version"}.
#pragma once

#include <string>

#include <torch/torch.h>

#include "facemix/generator.h"

namespace facemix {

struct LatentRecord {
  std::string image;          // the input photo's file name (no directories)
  std::string image_sha256;   // of the photo file's bytes
  int face = 0;               // which face of the photo (0 = largest)
  std::string model;          // the model file's name
  std::string model_sha256;   // of the model file's bytes
  int num_ws = 0, w_dim = 0;
  std::string projection_json;  // to_json(ProjectorOptions, R)
};

// "dir/a.npz" -> "dir/a.json".
std::string latent_sidecar_path(const std::string& npz_path);

// Writes npz_path (key "w") and its sidecar, each atomically.
// requires: w float32 [1, num_ws, w_dim] matching rec.
// throws:   UsageError for another shape; IoError when writing fails.
void save_latent(const std::string& npz_path, const torch::Tensor& w, const LatentRecord& rec);

// Whether `path` names a latent file by its extension (.npz or .npy, any case).
bool is_latent_path(const std::string& path);

// Reads a latent for use with a model of `config` whose file hash is
// `model_sha256` ("" = unknown, skip the hash check).
// ensures:  float32 [1, num_ws, w_dim] on the CPU (a [1, w_dim] W latent is
//           broadcast to every row).
// throws:   ModelError naming `path` when it cannot be read (read_latents),
//           holds more than one latent, has another num_ws or w_dim than the
//           model, or its sidecar (when present) is malformed or names another
//           model hash.
torch::Tensor load_latent_for_model(const std::string& path, const GeneratorConfig& config,
                                    const std::string& model_sha256);

}  // namespace facemix
