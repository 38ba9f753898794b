// face-api's tfjs weights manifest: a JSON list of groups, each naming its
// binary shard(s) ("paths", relative to the manifest) and its weights in shard
// order ({name, shape, dtype float32, optional quantization {dtype uint8,
// scale, min}}). A quantised value is min + scale * byte, computed in double and
// stored as float32, as tfjs does. Every weight is bounds-checked against its
// shard before it is read, and the shard must hold nothing else.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "facemix/errors.h"
#include "facemix/identity.h"
#include "identity/loading.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace facemix {

std::string identity_key_for_faceapi(const std::string& faceapi_name) {
  if (faceapi_name == "fc") return "fc.weight";
  std::vector<std::string> parts;
  std::stringstream ss(faceapi_name);
  for (std::string p; std::getline(ss, p, '/');) parts.push_back(p);
  static const std::map<std::string, std::string> kLeaf = {
      {"filters", "weight"}, {"bias", "bias"}, {"weights", "weight"}, {"biases", "bias"}};
  if (parts.size() < 3 || !kLeaf.count(parts.back()))
    throw ModelError("unexpected face-api weight name '" + faceapi_name + "'");
  std::string key;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) key += parts[i] + ".";
  return key + kLeaf.at(parts.back());
}

namespace identity {
namespace {

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ModelError(path + ": cannot read " + what);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// tfjs layout -> IdentityNet layout: HWIO filters -> OIHW, fc [in, out] -> [out, in].
torch::Tensor to_net_layout(const std::string& name, torch::Tensor t) {
  if (name.size() > 8 && name.compare(name.size() - 8, 8, "/filters") == 0) return t.permute({3, 2, 0, 1}).contiguous();
  if (name == "fc") return t.t().contiguous();
  return t;
}

struct Weight {
  std::string name;
  std::vector<int64_t> shape;
  bool quantised = false;
  double scale = 0.0, min = 0.0;
};

Weight parse_weight(const json& entry, const std::string& path) {
  Weight w;
  if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() || !entry.contains("shape") ||
      !entry["shape"].is_array())
    throw ModelError(path + ": manifest weight entry without a name and shape");
  w.name = entry["name"].get<std::string>();
  for (const auto& d : entry["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 1 || d.get<int64_t>() > (1 << 20))
      throw ModelError(path + ": " + w.name + ": bad shape in the manifest");
    w.shape.push_back(d.get<int64_t>());
  }
  if (entry.value("dtype", std::string("float32")) != "float32")
    throw ModelError(path + ": " + w.name + ": unsupported dtype " + entry["dtype"].dump());
  if (entry.contains("quantization")) {
    const json& q = entry["quantization"];
    if (!q.is_object() || q.value("dtype", std::string()) != "uint8" || !q.contains("scale") || !q.contains("min") ||
        !q["scale"].is_number() || !q["min"].is_number())
      throw ModelError(path + ": " + w.name + ": unsupported quantisation (facemix reads uint8 with scale and min)");
    w.quantised = true;
    w.scale = q["scale"].get<double>();
    w.min = q["min"].get<double>();
    if (!std::isfinite(w.scale) || !std::isfinite(w.min))
      throw ModelError(path + ": " + w.name + ": quantisation scale/min not finite");
  }
  return w;
}

torch::Tensor decode(const Weight& w, const unsigned char* data, int64_t count) {
  torch::Tensor t = torch::empty({count}, torch::kFloat32);
  float* out = t.data_ptr<float>();
  if (w.quantised) {
    for (int64_t i = 0; i < count; ++i) out[i] = static_cast<float>(w.min + w.scale * static_cast<double>(data[i]));
  } else {
    std::memcpy(out, data, static_cast<std::size_t>(count) * 4);  // little-endian float32, as x86/ARM
  }
  return t.view(w.shape);
}

}  // namespace

IdentityModel load_faceapi_manifest(const std::string& manifest_path) {
  json groups;
  try {
    groups = json::parse(read_file(manifest_path, "the weights manifest"));
  } catch (const json::exception& e) {
    throw ModelError(manifest_path + ": not a tfjs weights manifest (" + std::string(e.what()) + ")");
  }
  if (!groups.is_array()) throw ModelError(manifest_path + ": not a tfjs weights manifest (expected a list of groups)");
  const fs::path base = fs::path(manifest_path).parent_path();
  std::map<std::string, torch::Tensor> tensors;
  for (const json& group : groups) {
    if (!group.is_object() || !group.contains("paths") || !group["paths"].is_array() || !group.contains("weights") ||
        !group["weights"].is_array())
      throw ModelError(manifest_path + ": manifest group without 'paths' and 'weights' lists");
    std::string blob;
    std::string shard_names;
    for (const json& p : group["paths"]) {
      if (!p.is_string()) throw ModelError(manifest_path + ": manifest shard path is not a string");
      const std::string shard = (base / p.get<std::string>()).string();
      blob += read_file(shard, "the weights shard named by " + manifest_path);
      shard_names += (shard_names.empty() ? "" : ", ") + shard;
    }
    std::size_t pos = 0;
    for (const json& entry : group["weights"]) {
      const Weight w = parse_weight(entry, manifest_path);
      int64_t count = 1;
      for (int64_t d : w.shape) count *= d;
      const std::size_t bytes = static_cast<std::size_t>(count) * (w.quantised ? 1 : 4);
      if (pos + bytes > blob.size())
        throw ModelError(shard_names + ": too short for " + w.name + " (the manifest needs at least " +
                         std::to_string(pos + bytes) + " bytes, the shard has " + std::to_string(blob.size()) + ")");
      const std::string key = identity_key_for_faceapi(w.name);
      if (tensors.count(key)) throw ModelError(manifest_path + ": manifest names " + w.name + " twice");
      tensors[key] = to_net_layout(w.name, decode(w, reinterpret_cast<const unsigned char*>(blob.data()) + pos, count));
      pos += bytes;
    }
    if (pos != blob.size())
      throw ModelError(shard_names + ": " + std::to_string(blob.size() - pos) +
                       " bytes the manifest does not describe (manifest and shard disagree)");
  }
  std::map<std::string, std::string> meta = {{"format", "face-api tfjs manifest"},
                                              {"source", fs::path(manifest_path).filename().string()}};
  return assemble_identity_model(manifest_path, "face-api tfjs manifest", tensors, IdentityNormalisation{}, meta);
}

}  // namespace identity
}  // namespace facemix
