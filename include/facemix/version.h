// facemix version information.
#pragma once

#include <string>

namespace facemix {

// "facemix 0.1.0": the one line `facemix --version` prints.
std::string version_line();

// Versions of the libraries this build links (Torch, dlib, OpenCV, spdlog),
// one "name version" per line, for `facemix --version -v`.
std::string library_versions();

}  // namespace facemix
