// Model files: validate the metadata and every tensor against the config,
// then load the (memory-mapped) tensors into a freshly built generator.
#include "facemix/model_file.h"

#include <torch/torch.h>
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
  return GeneratorConfig::from_json(*config, f.path());
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
