// Shared fixtures of the identity tests: the golden chips and descriptors
// (../shared/golden/identity) and the identity model facemix ships (models/).
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "facemix/identity.h"

namespace facemix::test {

struct GoldenChip {
  std::string name;  // e.g. "congress_C001080.png"
  cv::Mat chip;      // 150x150 BGR, as read_image returns it
  Descriptor descriptor;  // what face-api computes for exactly these pixels
};

std::string golden_identity_dir();     // shared golden/identity
std::string shipped_identity_model();  // models/face_recognition_model-weights_manifest.json
std::vector<GoldenChip> golden_chips();

// Loaded once per test program.
const IdentityModel& shipped_model();

double max_abs_diff(const Descriptor& a, const Descriptor& b);

}  // namespace facemix::test
