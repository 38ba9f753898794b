// facemix info [MODEL] [--json]: validate a generator model file and describe it.
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "facemix/model_file.h"

namespace facemix::cli {
namespace {

struct InfoOptions {
  std::string model;
  bool json = false;
};

std::string channels_line(const GeneratorConfig& c) {
  std::string s;
  for (int r : c.block_resolutions()) s += (s.empty() ? "" : " ") + std::to_string(r) + ":" + std::to_string(c.channels_at(r));
  return s;
}

int run_info(const InfoOptions& o) {
  const ModelInfo info = inspect_model(find_model(o.model));
  const GeneratorConfig& c = info.config;
  std::string dtypes;
  for (const auto& d : info.dtypes) dtypes += (dtypes.empty() ? "" : ",") + d;

  if (o.json) {
    nlohmann::ordered_json j;
    j["path"] = info.path;
    j["format"] = kModelFormat;
    j["format_version"] = info.format_version;
    j["config"] = nlohmann::json::parse(info.config_json);
    j["resolution"] = c.img_resolution;
    j["z_dim"] = c.z_dim;
    j["w_dim"] = c.w_dim;
    j["num_ws"] = info.num_ws;
    j["mapping_layers"] = c.mapping_layers;
    j["channels"] = nlohmann::json::object();
    for (int r : c.block_resolutions()) j["channels"][std::to_string(r)] = c.channels_at(r);
    j["conv_clamp"] = c.conv_clamp ? nlohmann::json(*c.conv_clamp) : nlohmann::json(nullptr);
    j["parameters"] = info.parameter_count;
    j["buffer_elements"] = info.buffer_elements;
    j["tensors"] = info.tensor_count;
    j["dtypes"] = info.dtypes;
    j["file_size"] = info.file_size;
    j["sha256"] = info.sha256;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "model:          " << info.path << "\n"
            << "format:         " << kModelFormat << " version " << info.format_version << "\n"
            << "resolution:     " << c.img_resolution << "\n"
            << "z_dim / w_dim:  " << c.z_dim << " / " << c.w_dim << "\n"
            << "num_ws:         " << info.num_ws << "\n"
            << "mapping layers: " << c.mapping_layers << "\n"
            << "channels:       " << channels_line(c) << "\n"
            << "conv_clamp:     " << (c.conv_clamp ? std::to_string(*c.conv_clamp) : "none") << "\n"
            << "parameters:     " << info.parameter_count << "\n"
            << "tensors:        " << info.tensor_count << " (" << dtypes << ")\n"
            << "file size:      " << info.file_size << " bytes\n"
            << "sha256:         " << info.sha256 << "\n"
            << "config:         " << info.config_json << "\n";
  return 0;
}

Runner add_info_command(CLI::App& app, const GlobalOptions&) {
  auto o = std::make_shared<InfoOptions>();
  CLI::App* cmd = app.add_subcommand("info", "Validate a generator model file and describe it");
  cmd->add_option("MODEL", o->model,
                  "Model file (.safetensors); default: the model facemix would use "
                  "($FACEMIX_MODEL, then the models/ directories)");
  cmd->add_flag("--json", o->json, "Machine-readable JSON on stdout");
  cmd->footer("Exit code 5 when the file is not a valid facemix model.");
  return [o] { return run_info(*o); };
}

const CommandRegistration reg{"info", 40, &add_info_command};

}  // namespace
}  // namespace facemix::cli
