// Model discovery: --model, $FACEMIX_MODEL, then the installed and source-tree
// models/ directories.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "facemix/errors.h"
#include "facemix/model_file.h"
#include "facemix/safetensors.h"

namespace fs = std::filesystem;

namespace facemix {
namespace {

std::string executable_path() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : p.string();
}

}  // namespace

std::vector<std::string> default_model_dirs() {
  std::vector<std::string> dirs;
  const std::string exe = executable_path();
  if (!exe.empty()) {
    const fs::path prefix = fs::path(exe).parent_path().parent_path();
    dirs.push_back((prefix / "share" / "facemix" / "models").string());
  }
#ifdef FACEMIX_SOURCE_MODELS_DIR
  dirs.push_back(FACEMIX_SOURCE_MODELS_DIR);
#endif
  return dirs;
}

std::string find_safetensors_of_format(const std::string& dir, const std::string& format) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return "";
  std::vector<std::string> candidates;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".safetensors" && e.is_regular_file(ec)) candidates.push_back(e.path().string());
  std::sort(candidates.begin(), candidates.end());
  for (const auto& c : candidates) {
    try {
      SafetensorsFile f = SafetensorsFile::open(c);
      auto it = f.metadata().find("format");
      if (it != f.metadata().end() && it->second == format) return c;
      spdlog::debug("{}: not a {} file, skipped", c, format);
    } catch (const Error& e) {
      spdlog::debug("skipped: {}", e.what());
    }
  }
  return "";
}

std::string find_model_in(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    std::string found = find_safetensors_of_format(dir, kModelFormat);
    if (!found.empty()) return found;
  }
  return "";
}

std::string find_model(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  const char* env = std::getenv("FACEMIX_MODEL");
  if (env && *env) return env;
  const auto dirs = default_model_dirs();
  std::string found = find_model_in(dirs);
  if (!found.empty()) {
    spdlog::debug("using model {}", found);
    return found;
  }
  std::string where = "--model (not given), $FACEMIX_MODEL (not set)";
  for (const auto& d : dirs) where += ", " + d;
  throw ModelError("no generator model found; looked at " + where +
                   ". See models/README.md (installed in share/facemix/models/) for how to obtain and "
                   "convert NVIDIA's FFHQ weights");
}

}  // namespace facemix
