// Helpers the benchmark programs share: timing, medians, where the photos are.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace facemix::bench {

// Wall-clock seconds one call of f takes.
inline double seconds_of(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The middle value (the upper one of an even count). requires: v non-empty.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// $FACEMIX_SHARED/faces, else ../shared/faces beside the source tree. __FILE__
// is relative when ccache rewrote the paths (setup.sh's CCACHE_BASEDIR), so
// the tree is also looked for from the executable (<checkout>/build/bench/).
inline std::string shared_faces_dir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("FACEMIX_SHARED")) return std::string(env) + "/faces";
  const fs::path from_source = fs::path(__FILE__).parent_path() / ".." / ".." / "shared" / "faces";
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const fs::path from_exe = exe.parent_path() / ".." / ".." / ".." / "shared" / "faces";
  if (from_source.is_absolute() || ec || !fs::is_directory(from_exe)) return from_source.lexically_normal().string();
  return from_exe.lexically_normal().string();
}

}  // namespace facemix::bench
