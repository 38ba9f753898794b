// Model files: validate the metadata and every tensor against the config,
// then load the (memory-mapped) tensors into a freshly built generator.
#include "facemix/model_file.h"

#include <torch/torch.h>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "facemix/errors.h"
#include "facemix/safetensors.h"
#include "facemix/sha256.h"
#include "modules.h"

namespace facemix {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << '[';
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << ']';
  return o.str();
}

// NVIDIA state-dict order: per module its parameters, its buffers, then its children.
void collect_state(const torch::nn::Module& m, const std::string& prefix,
                   std::vector<std::pair<std::string, torch::Tensor>>& out) {
  for (const auto& p : m.named_parameters(false)) out.emplace_back(prefix + p.key(), p.value());
  for (const auto& b : m.named_buffers(false)) out.emplace_back(prefix + b.key(), b.value());
  for (const auto& c : m.named_children()) collect_state(*c.value(), prefix + c.key() + ".", out);
}

// Deepest [ / { nesting of a JSON text (brackets inside strings ignored).
// nlohmann's dump() recurses, so a deeply nested config value quoted in an
// error message would overflow the stack: such configs are refused first.
int json_nesting_depth(const std::string& text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char ch : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (ch == '\\') escaped = true;
      else if (ch == '"') in_string = false;
    } else if (ch == '"') {
      in_string = true;
    } else if (ch == '[' || ch == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (ch == ']' || ch == '}') {
      --depth;
    }
  }
  return deepest;
}
constexpr int kMaxConfigDepth = 16;  // NVIDIA's kwargs nest 3 deep

GeneratorConfig config_from_metadata(const SafetensorsFile& f) {
  const auto& md = f.metadata();
  auto get = [&](const char* key) -> const std::string* {
    auto it = md.find(key);
    return it == md.end() ? nullptr : &it->second;
  };
  const std::string* format = get("format");
  if (!format)
    throw ModelError(f.path() + ": not a facemix model (no \"format\" in the safetensors metadata; "
                     "see models/README.md to convert NVIDIA weights)");
  if (*format != kModelFormat)
    throw ModelError(f.path() + ": format is '" + *format + "', expected '" + kModelFormat + "'");
  const std::string* version = get("version");
  if (!version) throw ModelError(f.path() + ": metadata has no \"version\"");
  if (*version != kModelFormatVersion) {
    bool numeric = !version->empty() && version->find_first_not_of("0123456789") == std::string::npos;
    if (numeric && version->size() < 9 && std::stoi(*version) > std::stoi(kModelFormatVersion))
      throw ModelError(f.path() + ": model format version " + *version +
                       " is newer than this facemix supports (" + kModelFormatVersion + ")");
    throw ModelError(f.path() + ": unknown model format version '" + *version + "'");
  }
  const std::string* config = get("config");
  if (!config) throw ModelError(f.path() + ": metadata has no \"config\"");
  if (json_nesting_depth(*config) > kMaxConfigDepth)
    throw ModelError(f.path() + ": generator config nests deeper than " + std::to_string(kMaxConfigDepth) +
                     " levels (not a generator config)");
  return GeneratorConfig::from_json(*config, f.path());
}

// The generator is built before its tensors are read; a tiny file whose config
// asks for an enormous network must be refused before that allocation. The
// conv weights alone (all present in a valid file, at least 2 bytes each) are a
// lower bound on the data the file must hold.
void check_config_fits_file(const GeneratorConfig& c, const SafetensorsFile& f) {
  // Mapping MLP: z_dim -> features x (layers - 1) -> w_dim, as NVIDIA's features_list.
  const double features = c.mapping_layer_features > 0 ? c.mapping_layer_features : c.w_dim;
  double weights = c.mapping_layers == 1 ? double(c.z_dim) * c.w_dim
                                         : double(c.z_dim) * features + (c.mapping_layers - 2) * features * features +
                                               features * c.w_dim;
  // Synthesis convs [out, in, 3, 3] and their style affines [in, w_dim].
  for (int res : c.block_resolutions()) {
    const double out = c.channels_at(res), in = res == 4 ? out : c.channels_at(res / 2);
    weights += res == 4 ? out * out * 9 + out * c.w_dim : (out * in + out * out) * 9 + (in + out) * c.w_dim;
  }
  const double need = weights * 2;
  if (need > static_cast<double>(f.file_size()))
    throw ModelError(f.path() + ": config describes a generator with at least " +
                     std::to_string(static_cast<uint64_t>(weights)) + " weights (" +
                     std::to_string(static_cast<uint64_t>(need)) + " bytes even in 16-bit) but the file has only " +
                     std::to_string(f.file_size()) + " bytes");
}

struct Loaded {
  Generator generator{nullptr};
  SafetensorsFile file;
};

Loaded load_checked(const std::string& path) {
  // Weights must be ordinary tensors even when a caller loads inside an
  // InferenceMode scope: projection later runs autograd through them.
  c10::InferenceMode not_inference(false);
  SafetensorsFile f = SafetensorsFile::open(path);
  const GeneratorConfig config = config_from_metadata(f);
  check_config_fits_file(config, f);
  Generator g(config);

  std::vector<std::pair<std::string, torch::Tensor>> state;
  collect_state(*g, "", state);
  std::map<std::string, torch::Tensor> expected(state.begin(), state.end());

  // Check every record against the network before any tensor is built.
  std::map<std::string, const TensorRecord*> source_of;
  for (const TensorRecord& r : f.records()) {
    const std::string key = generator_key_for_tensor(r.name);
    auto it = expected.find(key);
    if (it == expected.end())
      throw ModelError(path + ": unexpected tensor '" + r.name + "' (not part of the generator its config describes)");
    if (it->second.sizes().vec() != r.shape)
      throw ModelError(path + ": tensor '" + r.name + "' has shape " + shape_str(r.shape) + ", the config needs " +
                       shape_str(it->second.sizes().vec()));
    if (!source_of.emplace(key, &r).second)
      throw ModelError(path + ": two tensors load into '" + key + "'");
  }
  for (const auto& [key, t] : state)
    if (!source_of.count(key)) throw ModelError(path + ": missing tensor '" + key + "'");

  torch::NoGradGuard no_grad;
  const torch::Tensor filter = gan::default_resample_filter();
  for (auto& [key, t] : state) {
    torch::Tensor v = f.tensor(*source_of.at(key));
    // NaN/inf weights would render silently broken images: refuse them here.
    if (v.numel() > 0 && !torch::isfinite(v).all().item<bool>())
      throw ModelError(path + ": tensor '" + source_of.at(key)->name + "' holds non-finite values (NaN or infinity)");
    // The up-sampling kernels hard-wire NVIDIA's filter (the config cannot change it).
    if (key.size() >= 15 && key.compare(key.size() - 15, 15, "resample_filter") == 0 && !torch::equal(v, filter))
      throw ModelError(path + ": tensor '" + key + "' is not NVIDIA's [1, 3, 3, 1] resample filter");
    t.set_data(v);
  }
  return {g, f};
}

}  // namespace

std::string generator_key_for_tensor(const std::string& tensor_name) { return tensor_name; }

Generator load_generator(const std::string& path, torch::Device device) {
  Generator g = load_checked(path).generator;
  if (!device.is_cpu()) g->to(device);
  g->eval();
  return g;
}

ModelInfo inspect_model(const std::string& path) {
  Loaded l = load_checked(path);
  ModelInfo info;
  info.path = path;
  info.format_version = l.file.metadata().at("version");
  info.config_json = l.file.metadata().at("config");
  info.config = l.generator->config();
  info.num_ws = info.config.num_ws();
  info.parameter_count = l.generator->parameter_count();
  for (const auto& b : l.generator->buffers()) info.buffer_elements += b.numel();
  info.tensor_count = l.file.records().size();
  std::set<std::string> dtypes;
  for (const auto& r : l.file.records()) dtypes.insert(to_string(r.dtype));
  info.dtypes.assign(dtypes.begin(), dtypes.end());
  info.file_size = l.file.file_size();
  info.sha256 = sha256_file_hex(path);
  return info;
}

void write_model_file(const std::string& path, const GeneratorImpl& generator) {
  std::vector<std::pair<std::string, torch::Tensor>> state;
  collect_state(generator, "", state);
  write_safetensors(path, state,
                    {{"format", kModelFormat},
                     {"version", kModelFormatVersion},
                     {"config", generator.config().to_json()}});
}

}  // namespace facemix
