// The latent cache of `facemix batch`: projected latents keyed by everything
// that determines them, shareable between processes and machines.
//
//   std::string key = facemix::latent_cache_key({image_sha, face, model_sha, options, R, lm_sha});
//   facemix::LatentCache cache("cache/");
//   if (auto w = cache.load(key, g->config(), model_sha)) use(*w);
//   else cache.store(key, project(...), record);
//   facemix::prune_latent_cache("cache/", 30 * 86400);   // entries unused for 30 days
//
// Layout: DIR/<first two hex digits of the key>/<key>.npz plus its sidecar
// <key>.json (latent_store.h: a normal saved latent, usable as an input of the
// main form). Both are written atomically, the sidecar last, so an entry
// exists exactly when its sidecar does: concurrent writers of one key write
// the same latent and the last rename wins; a reader never sees a torn file.
// A hit touches the sidecar's modification time, which pruning reads as
// "last used".
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <torch/torch.h>

#include "facemix/generator.h"
#include "facemix/latent_store.h"
#include "facemix/projector.h"

namespace facemix {

// Everything a projected latent is a function of.
struct LatentKeyParts {
  std::string image_sha256;      // of the photo file's bytes
  int face = 0;                  // which face of the photo
  std::string model_sha256;      // of the model file's bytes
  ProjectorOptions options;      // seed included; image_seeds ignored (derived from seed + image)
  int img_resolution = 0;        // the model's (the alignment size)
  std::string perceptual_sha256; // of options.perceptual_model's bytes, "" without one
  std::string landmarks_sha256;  // of the landmark model's bytes (it decides the alignment)
};

// ensures: 64 lower-case hex digits: the SHA-256 of a canonical text of the
//          parts (the perceptual model enters by hash, not path) and the
//          facemix version; equal parts give equal keys on every machine.
std::string latent_cache_key(const LatentKeyParts& parts);

class LatentCache {
 public:
  // Creates `dir` (mkdir -p) when missing.
  // throws: IoError naming dir (and --cache) when it cannot be created.
  explicit LatentCache(std::string dir);

  const std::string& dir() const { return dir_; }
  std::string npz_path(const std::string& key) const;  // DIR/ab/abcd....npz

  // ensures: the latent (float32 [1, num_ws, w_dim], CPU) when the entry
  //          exists and loads for this model, after touching its sidecar's
  //          time; nullopt when it does not exist, or (logged as a warning)
  //          when it cannot be read or does not fit, which the caller treats
  //          as a miss and overwrites.
  std::optional<torch::Tensor> load(const std::string& key, const GeneratorConfig& config,
                                    const std::string& model_sha256) const;

  // Writes the entry (npz, then sidecar; both atomic).
  // throws: IoError when writing fails; UsageError for a w that does not fit rec.
  void store(const std::string& key, const torch::Tensor& w, const LatentRecord& rec) const;

 private:
  std::string dir_;
};

struct PruneStats {
  int entries_removed = 0;
  int entries_kept = 0;
  int temp_files_removed = 0;  // stale temporaries and orphaned .npz (left by a killed writer)
};

// Removes the entries of the cache at `dir` not used (loaded or stored) for
// more than `max_age_seconds` (0: every entry), and temporary files and
// sidecar-less .npz files older than an hour (younger ones may belong to a
// writer that is still running). Safe while other processes use the cache:
// a process that loses an entry this way projects the photo again.
// throws: IoError naming dir when it is not a directory.
PruneStats prune_latent_cache(const std::string& dir, std::int64_t max_age_seconds);

}  // namespace facemix
