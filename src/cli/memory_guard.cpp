// Memory estimates for the commands that scale with their number of inputs.
#include "memory_guard.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "facemix/errors.h"

namespace facemix::cli {
namespace {

// Activation tensors per synthesis layer that the backward pass keeps alive
// (modulated input, convolution output, noise, bias + activation, the ToRGB
// and skip images); an upper-side guess, used only to refuse absurd batches.
constexpr double kSavedTensorsPerResolution = 12;

// "3.2 GiB", "24.6 MiB", "512 bytes".
std::string human_bytes(double bytes) {
  char s[48];
  if (bytes >= double(1ull << 30)) std::snprintf(s, sizeof s, "%.1f GiB", bytes / double(1ull << 30));
  else if (bytes >= double(1ull << 20)) std::snprintf(s, sizeof s, "%.1f MiB", bytes / double(1ull << 20));
  else std::snprintf(s, sizeof s, "%.0f bytes", bytes);
  return s;
}

// "64G", "512M", "1000000" -> bytes; 0 when malformed.
uint64_t parse_bytes(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(v > 0)) return 0;
  const std::string suffix(end);
  double scale = 1;
  if (suffix == "K" || suffix == "k") scale = 1024.0;
  else if (suffix == "M" || suffix == "m") scale = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "g") scale = 1024.0 * 1024 * 1024;
  else if (!suffix.empty()) return 0;
  return static_cast<uint64_t>(v * scale);
}

}  // namespace

uint64_t memory_budget_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  uint64_t budget = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : 0;
  if (const char* env = std::getenv("FACEMIX_MAX_MEMORY")) {
    const uint64_t limit = parse_bytes(env);
    if (limit > 0 && (budget == 0 || limit < budget)) budget = limit;
  }
  return budget;
}

void check_memory_estimate(double bytes, const std::string& what, const std::string& hint) {
  const uint64_t budget = memory_budget_bytes();
  if (budget == 0 || bytes <= static_cast<double>(budget)) return;
  throw UsageError(what + " needs about " + human_bytes(bytes) + " of memory, more than the " +
                   human_bytes(double(budget)) + " available ($FACEMIX_MAX_MEMORY or physical memory); " + hint);
}

double projection_bytes_per_image(const GeneratorConfig& c) {
  double floats = 3.0 * c.img_resolution * c.img_resolution * 4;  // target, output, loss terms
  for (int res : c.block_resolutions()) floats += kSavedTensorsPerResolution * c.channels_at(res) * double(res) * res;
  return floats * sizeof(float);
}

}  // namespace facemix::cli
