// Threading defaults (src/cli/threading.h) read back from a real facemix
// process: `--version -vv` prints the settings as Torch and OpenCV report
// them, and libgomp prints the wait policy it parsed when it was loaded, so
// the policy shown there is the one every parallel region ran with.
#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "test_support.h"

namespace facemix {
namespace {

using test::CliResult;
using test::run_facemix;
using test::ScratchDir;

// Sets (or, with nullopt, unsets) environment variables of this process,
// which facemix inherits, and restores them on destruction.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::optional<std::string>>& vars) {
    for (const auto& [name, value] : vars) {
      const char* old = ::getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
      set(name, value);
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) set(name, value);
  }

 private:
  static void set(const std::string& name, const std::optional<std::string>& value) {
    if (value)
      ::setenv(name.c_str(), value->c_str(), 1);
    else
      ::unsetenv(name.c_str());
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

// The value after "KEY: " on its own line of `text`, "" when missing.
std::string field(const std::string& text, const std::string& key) {
  const std::string k = "\n" + key + ": ";
  const auto at = ("\n" + text).find(k);
  if (at == std::string::npos) return "";
  const auto start = at + k.size() - 1;
  return text.substr(start, text.find('\n', start) - start);
}

// Restricts this thread, and so the facemix it starts, to its first allowed
// CPU (as `taskset -c N` does) until destruction.
class PinnedToOneCpu {
 public:
  PinnedToOneCpu() {
    EXPECT_EQ(::sched_getaffinity(0, sizeof(all_), &all_), 0);
    int first = 0;
    while (!CPU_ISSET(first, &all_)) ++first;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    EXPECT_EQ(::sched_setaffinity(0, sizeof(one), &one), 0);
  }
  ~PinnedToOneCpu() { ::sched_setaffinity(0, sizeof(all_), &all_); }
  PinnedToOneCpu(const PinnedToOneCpu&) = delete;
  PinnedToOneCpu& operator=(const PinnedToOneCpu&) = delete;

 private:
  cpu_set_t all_;
};

int my_cores() {
  cpu_set_t set;
  EXPECT_EQ(::sched_getaffinity(0, sizeof(set), &set), 0);
  return CPU_COUNT(&set);
}

CliResult version_vv(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--version", "-vv"};
  args.insert(args.end(), extra.begin(), extra.end());
  CliResult r = run_facemix(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r;
}

const std::map<std::string, std::optional<std::string>> kNoUserChoice{{"OMP_WAIT_POLICY", std::nullopt},
                                                                      {"GOMP_SPINCOUNT", std::nullopt}};

TEST(ThreadsCli, DefaultsArePassiveWaitAndEveryAvailableCore) {
  ScopedEnv env(kNoUserChoice);
  const CliResult r = version_vv();
  const int cores = std::stoi(field(r.out, "cores available"));
  EXPECT_GE(cores, 1);
  EXPECT_LE(cores, my_cores());
  EXPECT_EQ(field(r.out, "torch intra-op threads"), std::to_string(cores)) << r.out;
  EXPECT_EQ(field(r.out, "torch inter-op threads"), "1") << r.out;
  EXPECT_EQ(field(r.out, "opencv threads"), std::to_string(cores)) << r.out;
  EXPECT_EQ(field(r.out, "OMP_WAIT_POLICY"), "PASSIVE") << r.out;
  // libgomp's own view, parsed in its initialiser before main(): no spinning.
  EXPECT_NE(r.err.find("OMP_WAIT_POLICY = 'PASSIVE'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("GOMP_SPINCOUNT = '0'"), std::string::npos) << r.err;
}

TEST(ThreadsCli, ThreadsOptionSetsTorchAndOpenCv) {
  ScopedEnv env(kNoUserChoice);
  const CliResult r = version_vv({"--threads", "1"});
  EXPECT_EQ(field(r.out, "torch intra-op threads"), "1") << r.out;
  EXPECT_EQ(field(r.out, "opencv threads"), "1") << r.out;
  EXPECT_EQ(field(r.out, "torch inter-op threads"), "1") << r.out;
  const CliResult three = version_vv({"--threads", "3"});
  EXPECT_EQ(field(three.out, "torch intra-op threads"), "3") << three.out;
  EXPECT_EQ(field(three.out, "opencv threads"), "3") << three.out;
}

TEST(ThreadsCli, CpuAffinityLimitsTheDefault) {
  // As under `taskset -c N` or a Slurm cpuset: facemix inherits the mask.
  ScopedEnv env(kNoUserChoice);
  CliResult r;
  {
    PinnedToOneCpu pin;
    r = run_facemix({"--version", "-v"});
  }
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(field(r.out, "cores available"), "1") << r.out;
  EXPECT_EQ(field(r.out, "torch intra-op threads"), "1") << r.out;
  EXPECT_EQ(field(r.out, "opencv threads"), "1") << r.out;
}

TEST(ThreadsCli, WaitPolicyChosenByTheUserIsKept) {
  {
    ScopedEnv env({{"OMP_WAIT_POLICY", "ACTIVE"}, {"GOMP_SPINCOUNT", std::nullopt}});
    const CliResult r = version_vv();
    EXPECT_EQ(field(r.out, "OMP_WAIT_POLICY"), "ACTIVE") << r.out;
    EXPECT_NE(r.err.find("OMP_WAIT_POLICY = 'ACTIVE'"), std::string::npos) << r.err;
  }
  {
    // A spin count alone is a choice too: libgomp's default policy with it.
    ScopedEnv env({{"OMP_WAIT_POLICY", std::nullopt}, {"GOMP_SPINCOUNT", "12345"}});
    const CliResult r = version_vv();
    EXPECT_EQ(field(r.out, "OMP_WAIT_POLICY"), "(unset)") << r.out;
    EXPECT_NE(r.err.find("GOMP_SPINCOUNT = '12345'"), std::string::npos) << r.err;
  }
}

TEST(ThreadsCli, SettingsAreAppliedBeforeACommandRuns) {
  ScopedEnv env(kNoUserChoice);
  const CliResult r =
      run_facemix({"info", test::golden_dir() + "/small.safetensors", "--threads", "1", "-v"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("Torch 1 intra-op + 1 inter-op, OpenCV 1, OMP_WAIT_POLICY PASSIVE"), std::string::npos)
      << r.err;
}

// The "N job(s) in parallel, M thread(s) each" line of `facemix batch -v`
// over a folder of one photo (no pairs: nothing to blend, nothing loaded).
std::string batch_split(const std::vector<std::string>& extra) {
  ScratchDir in, out;
  test::write_file(in.file("a.jpg"), test::read_file(test::faces_dir() + "/congress_C001080.jpg"));
  std::vector<std::string> args{"batch", in.path(), "-o", out.path(), "--engine", "morph", "-v"};
  args.insert(args.end(), extra.begin(), extra.end());
  const CliResult r = run_facemix(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto at = r.err.find(" job(s) in parallel");
  if (at == std::string::npos) return r.err;
  const auto start = r.err.rfind(' ', at - 1) + 1;
  return r.err.substr(start, r.err.find('\n', at) - start);
}

TEST(ThreadsCli, BatchJobsShareTheCoresTheyWereGiven) {
  ScopedEnv env(kNoUserChoice);
  EXPECT_EQ(batch_split({"--threads", "4", "--jobs", "2"}), "2 job(s) in parallel, 2 thread(s) each");
  EXPECT_EQ(batch_split({"--threads", "3", "--jobs", "2"}), "2 job(s) in parallel, 1 thread(s) each");
  // The default budget is the CPU affinity, not every core of the machine.
  PinnedToOneCpu pin;
  EXPECT_EQ(batch_split({}), "1 job(s) in parallel, 1 thread(s) each");
}

TEST(ThreadsCli, WaitPolicyDoesNotChangeTheBlend) {
  // Waiting differently must not change any result: the same bytes with the
  // passive default and with libgomp's own default (spin 300000 rounds, how
  // facemix ran before it chose), for the same --threads.
  ScratchDir dir;
  const std::vector<std::string> args{test::faces_dir() + "/congress_C001080.jpg",
                                      test::faces_dir() + "/congress_N000179_older.jpg",
                                      "--engine", "gan", "--model", test::golden_dir() + "/small.safetensors",
                                      "--schedule", "16:4,64:4", "--size", "64", "--threads", "2", "-q"};
  auto blend = [&](const std::string& out) {
    std::vector<std::string> a = args;
    a.insert(a.end(), {"-o", dir.file(out)});
    const CliResult r = run_facemix(a);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return test::read_file(dir.file(out));
  };
  std::string passive, spinning;
  {
    ScopedEnv env(kNoUserChoice);
    passive = blend("passive.png");
  }
  {
    ScopedEnv env({{"OMP_WAIT_POLICY", std::nullopt}, {"GOMP_SPINCOUNT", "300000"}});
    spinning = blend("spinning.png");
  }
  ASSERT_FALSE(passive.empty());
  EXPECT_EQ(passive, spinning);
}

}  // namespace
}  // namespace facemix
