// Every input under fuzz/regressions/<target>/ once crashed, hung or leaked an
// unexpected exception from a fuzz target; every seed under fuzz/corpus/<target>/
// is a valid or near-valid input. Each must now go through the target's entry
// function: handled, or refused with a facemix::Error (caught in the entry).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <ostream>
#include <string>
#include <vector>

#include "entries/fuzz_entries.h"

namespace fs = std::filesystem;

namespace {

using Entry = std::function<void(const uint8_t*, size_t)>;

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename().string()[0] != '.') out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Returns how many files were replayed.
size_t replay(const std::string& target, const std::string& kind, const Entry& entry) {
  size_t n = 0;
  for (const fs::path& p : files_under(fs::path(FACEMIX_FUZZ_DIR) / kind / target)) {
    std::ifstream f(p, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(p.string());
    EXPECT_NO_THROW(entry(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    ++n;
  }
  return n;
}

struct Target {
  const char* name;
  Entry entry;
};

// Names the parameter in test listings (ctest shows "GetParam() = model_file").
void PrintTo(const Target& t, std::ostream* os) { *os << t.name; }

class FuzzReplay : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzReplay, SeedsAndRegressionsAreHandled) {
  const Target& t = GetParam();
  const size_t seeds = replay(t.name, "corpus", t.entry);
  replay(t.name, "regressions", t.entry);
  EXPECT_GT(seeds, 0u) << "no seed corpus in fuzz/corpus/" << t.name;
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplay,
                         ::testing::Values(Target{"model_file", facemix::fuzz::run_model_file},
                                           Target{"latent_file", facemix::fuzz::run_latent_file},
                                           Target{"image_face", facemix::fuzz::run_image_face},
                                           Target{"align_landmarks", facemix::fuzz::run_align_landmarks},
                                           Target{"manifest", facemix::fuzz::run_manifest}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
