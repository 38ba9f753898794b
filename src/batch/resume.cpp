// Resume support and the per-job report line of `facemix batch`.
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "facemix/batch_run.h"
#include "facemix/pipeline.h"

namespace fs = std::filesystem;

namespace facemix {

std::string to_string(JobStatus status) {
  switch (status) {
    case JobStatus::kDone: return "done";
    case JobStatus::kSkipped: return "skipped";
    case JobStatus::kFailed: return "failed";
  }
  return "?";
}

std::string to_string(LatentSource source) {
  switch (source) {
    case LatentSource::kCache: return "cache";
    case LatentSource::kProjected: return "projected";
    case LatentSource::kMemory: return "memory";
  }
  return "?";
}

OutputState output_state(const std::string& output, const std::vector<std::string>& dependencies) {
  std::error_code ec;
  const auto out_time = fs::last_write_time(output, ec);
  if (ec) return OutputState::kMissing;
  for (const auto& d : dependencies) {
    const auto t = fs::last_write_time(d, ec);
    if (!ec && t > out_time) return OutputState::kStale;
  }
  return OutputState::kUpToDate;
}

int remove_stale_temp_files(const std::vector<std::string>& outputs) {
  // Directory -> the temp-name prefixes and extensions of its outputs.
  std::map<std::string, std::set<std::pair<std::string, std::string>>> wanted;
  for (const auto& o : outputs) {
    const fs::path p(o);
    const std::string dir = p.parent_path().empty() ? "." : p.parent_path().string();
    wanted[dir].insert({"." + p.stem().string() + ".facemix-", ".tmp" + p.extension().string()});
  }
  static const std::regex tag("[0-9a-f]{16}");
  int removed = 0;
  for (const auto& [dir, names] : wanted) {
    std::error_code ec;
    std::vector<fs::path> doomed;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      if (name.empty() || name[0] != '.') continue;
      for (const auto& [prefix, suffix] : names) {
        if (name.size() != prefix.size() + 16 + suffix.size() || name.compare(0, prefix.size(), prefix) != 0 ||
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
          continue;
        if (std::regex_match(name.substr(prefix.size(), 16), tag)) doomed.push_back(e.path());
      }
    }
    for (const auto& p : doomed)
      if (fs::remove(p, ec)) ++removed;
  }
  return removed;
}

std::string job_report_json(const JobOutcome& o) {
  nlohmann::ordered_json j;
  j["index"] = o.index;
  if (o.job && o.job->line > 0) j["line"] = o.job->line;
  if (o.job) {
    j["inputs"] = o.job->inputs;
    j["output"] = o.job->output;
  }
  j["status"] = to_string(o.status);
  if (o.status == JobStatus::kSkipped) j["reason"] = o.reason;
  if (o.status == JobStatus::kFailed) {
    j["error"] = o.reason;
    j["error_kind"] = o.error_kind;
  }
  if (!o.sources.empty()) {
    nlohmann::ordered_json latents = nlohmann::ordered_json::array();
    for (auto s : o.sources) latents.push_back(to_string(s));
    j["latents"] = latents;
  }
  if (o.mix) j["weights"] = mix_json(*o.mix);
  if (o.identity) j["identity"] = identity_json(*o.identity);
  j["seconds"] = {{"prepare", o.prepare_seconds},
                  {"render", o.render_seconds},
                  {"total", o.prepare_seconds + o.render_seconds}};
  return j.dump();
}

}  // namespace facemix
