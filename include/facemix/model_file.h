// facemix model files and model discovery.
//
// A model file is a .safetensors file whose __metadata__ holds
//   "format": "facemix-stylegan2", "version": "1",
//   "config": NVIDIA Generator constructor kwargs as JSON,
// and whose tensors are NVIDIA's G.state_dict() keys (see models/README.md).
//
//   std::string path = facemix::find_model(cli_model);           // --model, $FACEMIX_MODEL, models/ dirs
//   facemix::Generator g = facemix::load_generator(path);        // validated, memory-mapped
//   facemix::ModelInfo info = facemix::inspect_model(path);      // for `facemix info`
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "facemix/generator.h"

namespace facemix {

constexpr const char* kModelFormat = "facemix-stylegan2";
constexpr const char* kModelFormatVersion = "1";

// The generator key a model-file tensor loads into. facemix stores NVIDIA's
// state-dict keys, so this is the identity for every key NVIDIA writes; it is
// the single place to change should a file layout ever name tensors otherwise.
std::string generator_key_for_tensor(const std::string& tensor_name);

// Builds the generator a model file describes and loads its tensors (F32 ones
// without a copy on the CPU: they view the memory-mapped file).
// requires: nothing (every problem is reported by exception).
// ensures:  a generator whose every parameter and buffer came from the file,
//           requires_grad false, on `device`.
// throws:   ModelError naming `path` for a file that is missing or not a valid
//           safetensors file, lacks the facemix metadata (format, version,
//           config), has a newer format version or an unsupported config, or
//           whose tensors do not match the config (missing, unexpected, or of
//           another shape); UsageError for an unusable device.
Generator load_generator(const std::string& path, torch::Device device = torch::kCPU);

struct ModelInfo {
  std::string path;
  std::string format_version;
  std::string config_json;     // as stored in the file
  GeneratorConfig config;
  int num_ws = 0;
  int64_t parameter_count = 0;  // parameters, as NVIDIA counts (buffers excluded)
  int64_t buffer_elements = 0;
  size_t tensor_count = 0;
  std::vector<std::string> dtypes;  // distinct dtypes stored, e.g. {"F32"}
  uint64_t file_size = 0;
  std::string sha256;          // of the whole file, lower-case hex
};

// Validates `path` exactly as load_generator does and summarises it.
// throws: as load_generator.
ModelInfo inspect_model(const std::string& path);

// Writes a generator to a model file (atomic, F32, NVIDIA state-dict order).
// throws: IoError when writing fails.
void write_model_file(const std::string& path, const GeneratorImpl& generator);

// Where find_model looks after --model and $FACEMIX_MODEL, in order:
// <install prefix>/share/facemix/models (prefix = the directory above the one
// holding the running binary), then the source tree's models/.
std::vector<std::string> default_model_dirs();

// The first *.safetensors file of `dir` (in name order) whose metadata says
// format `format`; "" when there is none (unreadable files are skipped).
std::string find_safetensors_of_format(const std::string& dir, const std::string& format);

// The first model in `dirs` (each scanned for *.safetensors in name order)
// whose metadata says format facemix-stylegan2; "" when there is none.
std::string find_model_in(const std::vector<std::string>& dirs);

// The model a command should use: `explicit_path` (--model) when not empty,
// else $FACEMIX_MODEL when set and not empty, else find_model_in(default_model_dirs()).
// An explicit path or $FACEMIX_MODEL is returned as given (load_generator
// reports problems with it).
// throws: ModelError listing every place it looked and pointing to
//         models/README.md when nothing is found.
std::string find_model(const std::string& explicit_path = "");

}  // namespace facemix
