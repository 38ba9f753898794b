#include "facemix/version.h"

#include <dlib/revision.h>
#include <opencv2/core/version.hpp>
#include <spdlog/version.h>
#include <torch/version.h>

#include <sstream>

namespace facemix {

std::string version_line() { return std::string("facemix ") + FACEMIX_VERSION; }

std::string library_versions() {
  std::ostringstream s;
  s << "torch " << TORCH_VERSION << "\n"
    << "dlib " << DLIB_MAJOR_VERSION << "." << DLIB_MINOR_VERSION << "\n"
    << "opencv " << CV_VERSION << "\n"
    << "spdlog " << SPDLOG_VER_MAJOR << "." << SPDLOG_VER_MINOR << "." << SPDLOG_VER_PATCH << "\n";
  return s.str();
}

}  // namespace facemix
