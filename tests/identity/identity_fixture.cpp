#include "identity_fixture.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "facemix/image_io.h"
#include "test_support.h"

namespace facemix::test {

std::string golden_identity_dir() { return golden_dir() + "/identity"; }

std::string shipped_identity_model() { return source_dir() + "/models/face_recognition_model-weights_manifest.json"; }

std::vector<GoldenChip> golden_chips() {
  const auto j = nlohmann::json::parse(read_file(golden_identity_dir() + "/descriptors.json"));
  std::vector<GoldenChip> chips;
  for (const auto& c : j.at("cases")) {
    GoldenChip g;
    const std::string rel = c.at("chip").get<std::string>();
    g.name = rel.substr(rel.find('/') + 1);
    g.chip = read_image(golden_identity_dir() + "/" + rel);
    const auto& d = c.at("descriptor");
    for (int i = 0; i < kDescriptorSize; ++i) g.descriptor[i] = d.at(i).get<float>();
    chips.push_back(g);
  }
  return chips;
}

const IdentityModel& shipped_model() {
  static const IdentityModel model = load_identity_model(shipped_identity_model());
  return model;
}

double max_abs_diff(const Descriptor& a, const Descriptor& b) {
  double m = 0.0;
  for (int i = 0; i < kDescriptorSize; ++i) m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  return m;
}

}  // namespace facemix::test
