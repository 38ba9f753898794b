// Output permissions as a user sees them: every file and directory facemix
// writes gets the mode a plain new file (0666) or directory (0777) gets under
// the umask it was started with. The library-level tests are in
// tests/core/output_modes_test.cpp; these run the commands.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_support.h"

namespace facemix {
namespace {

namespace fs = std::filesystem;
using test::CliResult;
using test::ScratchDir;

std::string face(const std::string& name) { return test::faces_dir() + "/" + name; }
const std::string kA = "congress_C001080.jpg";
const std::string kB = "congress_N000179_older.jpg";

// Runs facemix under `umask` (the child inherits it).
CliResult run_with_umask(mode_t umask, const std::vector<std::string>& args) {
  const mode_t old = ::umask(umask);
  CliResult r = test::run_facemix(args);
  ::umask(old);
  return r;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) ADD_FAILURE() << path << ": cannot stat";
  return st.st_mode & 07777;
}

// Every file under `dir` (and `dir`'s subdirectories) has the expected mode.
void expect_modes_under(const std::string& dir, mode_t umask) {
  int files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string p = e.path().string();
    EXPECT_EQ(mode_of(p), (e.is_directory() ? 0777 : 0666) & ~umask) << p << std::oct << " 0" << mode_of(p);
    ++files;
  }
  EXPECT_GT(files, 0) << dir;
}

// One run of each command that writes files, under umask 077 (022 is the usual
// one, so 077 tells a right mode from a lucky one); the library tests cover
// every output kind under 022, 077 and 002.
TEST(OutputModesCli, EveryCommandsOutputsFollowTheUmask) {
  const mode_t umask = 077;
  ScratchDir dir;
  fs::create_directory(dir.file("out"));
  fs::create_directory(dir.file("in"));
  for (const auto& n : {kA, kB}) fs::copy_file(face(n), dir.file("in/" + n));
  const std::string out = dir.file("out/");
  CliResult r = run_with_umask(umask, {face(kA), face(kB), "--frames", "3", "--size", "64", "-o", out + "m.gif"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_with_umask(umask, {"align", face(kA), "--size", "64", "-o", out + "aligned.png", "--landmarks-json",
                             out + "landmarks.json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_with_umask(umask, {"project", face(kA), "--model", test::golden_dir() + "/small.safetensors",
                             "--schedule", "16:2", "--threads", "1", "--out-dir", out + "latents"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out + "latents/congress_C001080.npz"));
  EXPECT_TRUE(fs::exists(out + "latents/congress_C001080.json"));
  r = run_with_umask(umask, {"batch", dir.file("in"), "-o", out + "blends", "--engine", "morph", "--size", "64",
                             "--report", out + "report.jsonl"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out + "report.jsonl"));
  expect_modes_under(dir.file("out"), umask);
}

// The case a user reported: a GIF came out 0600 while everything else was 0644.
TEST(OutputModesCli, GifUnderTheUsualUmask) {
  ScratchDir dir;
  const CliResult r =
      run_with_umask(022, {face(kA), face(kB), "--frames", "3", "--size", "64", "-o", dir.file("m.gif")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mode_of(dir.file("m.gif")), mode_t{0644});
}

}  // namespace
}  // namespace facemix
