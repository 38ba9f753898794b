// What a blend reports about whom it resembles.
#include <cstdio>
#include <filesystem>

#include "facemix/identity.h"

namespace facemix {

IdentityFigures identity_figures(const Descriptor& blend, const std::vector<Descriptor>& inputs) {
  IdentityFigures f;
  for (const auto& d : inputs) {
    f.distances.push_back(descriptor_distance(blend, d));
    f.max_distance = std::max(f.max_distance, f.distances.back());
  }
  f.all_same = !inputs.empty() && f.max_distance < kSamePersonThreshold;
  f.all_same_strict = !inputs.empty() && f.max_distance < kStrictSamePersonThreshold;
  return f;
}

std::string identity_summary(const IdentityFigures& f, const std::vector<std::string>& names) {
  std::string line = "identity: distance to ";
  char buf[32];
  for (std::size_t i = 0; i < f.distances.size(); ++i) {
    std::snprintf(buf, sizeof buf, " %.3f", f.distances[i]);
    const std::string name = i < names.size() ? std::filesystem::path(names[i]).filename().string() : "input";
    line += (i ? ", " : "") + name + buf;
  }
  std::snprintf(buf, sizeof buf, "; max %.3f ", f.max_distance);
  line += buf;
  line += f.all_same_strict ? "(every input verifies at 0.6 and 0.5)"
          : f.all_same      ? "(every input verifies at 0.6, not all at 0.5)"
                            : "(not every input verifies at 0.6)";
  return line;
}

}  // namespace facemix
