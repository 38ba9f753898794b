// `facemix batch` end to end on the shared portraits with the 64 px golden
// generator small.safetensors and very short projection schedules: the cache,
// resume after SIGKILL, bad inputs, manifests, shards.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "test_support.h"

using namespace facemix::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* kQuick = "16:4";
std::string small_model() { return golden_dir() + "/small.safetensors"; }
std::string tiny_model() { return golden_dir() + "/tiny.safetensors"; }

// Copies the named portraits into `dir` (the batch's input folder).
void copy_faces(const std::string& dir, const std::vector<std::string>& names) {
  fs::create_directories(dir);
  for (const auto& n : names) fs::copy_file(faces_dir() + "/" + n, dir + "/" + n);
}

const std::vector<std::string> kThree = {"congress_C001080.jpg", "congress_N000179_older.jpg",
                                         "congress_S001223_glasses.jpg"};

std::vector<json> read_report(const std::string& path) {
  std::vector<json> lines;
  std::istringstream in(read_file(path));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

// How many report entries name each latent source ("projected", "cache", "memory").
std::map<std::string, int> sources(const std::vector<json>& report) {
  std::map<std::string, int> count;
  for (const auto& j : report)
    if (j.contains("latents"))
      for (const auto& s : j["latents"]) ++count[s.get<std::string>()];
  return count;
}

std::vector<std::string> gan(std::vector<std::string> args, const std::string& model = small_model(),
                             const std::string& schedule = kQuick) {
  args.insert(args.begin(), "batch");
  args.insert(args.end(), {"--engine", "gan", "--model", model, "--schedule", schedule, "--size", "64",
                           "--threads", "1"});
  return args;
}

std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".facemix-") != std::string::npos) found.push_back(e.path().string());
  return found;
}

class BatchCli : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("FACEMIX_MODEL", "", 1); }
  ScratchDir dir;
};

}  // namespace

TEST_F(BatchCli, CacheProjectsEachPhotoOnceAndMissesOnOtherSettings) {
  const std::string in = dir.file("in"), cache = dir.file("cache"), report = dir.file("r.jsonl");
  copy_faces(in, kThree);
  auto r = run_facemix(gan({in, "-o", dir.file("out1"), "--cache", cache, "--report", report}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rep = read_report(report);
  ASSERT_EQ(rep.size(), 3u);  // all pairs of three
  EXPECT_EQ(sources(rep)["projected"], 3) << "each photo projected once for its three uses";
  EXPECT_EQ(sources(rep)["memory"], 3);
  for (const auto& j : rep) EXPECT_EQ(j["status"], "done") << j.dump();
  EXPECT_NE(r.err.find("3 done, 0 skipped, 0 failed"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << "one line per output: " << r.out;

  // Again, into another folder (rendering two jobs at a time): nothing is
  // projected, and the blends are the same bytes.
  r = run_facemix(gan({in, "-o", dir.file("out2"), "--cache", cache, "--report", report, "--jobs", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  rep = read_report(report);
  EXPECT_EQ(sources(rep)["projected"], 0);
  EXPECT_EQ(sources(rep)["cache"], 3);
  for (const auto& j : rep) {
    const std::string name = fs::path(j["output"].get<std::string>()).filename().string();
    EXPECT_EQ(read_file(dir.file("out1/" + name)), read_file(dir.file("out2/" + name))) << name;
  }

  // Other projection settings, another model: misses.
  r = run_facemix(gan({in, "-o", dir.file("out3"), "--cache", cache, "--report", report, "--seed", "5"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(sources(read_report(report))["projected"], 3);
  r = run_facemix(gan({in, "-o", dir.file("out4"), "--cache", cache, "--report", report}, tiny_model()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(sources(read_report(report))["projected"], 3);

  // Pruning everything empties the cache; the next run projects again.
  r = run_facemix({"batch", "--cache", cache, "--prune-cache", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pruned 9 entries"), std::string::npos) << r.err;
}

TEST_F(BatchCli, KilledRunResumesToTheSameOutputsWithoutTemporaryFiles) {
  const std::string in = dir.file("in"), ref = dir.file("ref"), out = dir.file("out");
  copy_faces(in, {"congress_C001080.jpg", "congress_N000179_older.jpg", "congress_S001223_glasses.jpg",
                  "congress_O000173_headscarf.jpg"});
  // One photo per projection batch, adjacent pairs: outputs appear one by one.
  auto args = [&](const std::string& o) {
    return gan({in, "-o", o, "--pairs", "adjacent", "--project-batch", "1"}, small_model(), "16:20,64:10");
  };
  auto r = run_facemix(args(ref));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(ref)) names.push_back(e.path().filename().string());
  ASSERT_EQ(names.size(), 3u);

  // Start the same batch, SIGKILL it as soon as its first output exists.
  fs::create_directories(out);
  const pid_t pid = start_facemix(args(out));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto outputs_now = [&] {
    int n = 0;
    for (const auto& name : names) n += fs::exists(out + "/" + name);
    return n;
  };
  while (outputs_now() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  const int done_before = outputs_now();
  ASSERT_GE(done_before, 1);
  RecordProperty("outputs_before_kill", done_before);  // 1 or 2 when the kill hit mid-run
  // A partial file such as a kill during a write leaves behind.
  const std::string stale = out + "/." + fs::path(names[0]).stem().string() + ".facemix-00000000deadbeef.tmp.png";
  write_file(stale, "partial");

  r = run_facemix(args(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find(std::to_string(3 - done_before) + " done, " + std::to_string(done_before) + " skipped"),
            std::string::npos)
      << r.err;
  for (const auto& name : names) EXPECT_EQ(read_file(out + "/" + name), read_file(ref + "/" + name)) << name;
  EXPECT_TRUE(temp_files(out).empty());
  EXPECT_TRUE(temp_files(ref).empty());
}

TEST_F(BatchCli, BadFilesFailTheirJobsOnlyAndAreReported) {
  const std::string in = dir.file("in"), out = dir.file("out"), report = dir.file("r.jsonl");
  copy_faces(in, {"congress_C001080.jpg", "congress_N000179_older.jpg", "noface_coffee.png"});
  write_file(in + "/broken.jpg", std::string("\xff\xd8\xff\xe0 not really a jpeg", 24));
  const auto r = run_facemix(gan({in, "-o", out, "--report", report}));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("1 done, 0 skipped, 5 failed"), std::string::npos) << r.err;
  const auto rep = read_report(report);
  ASSERT_EQ(rep.size(), 6u);
  int done = 0;
  for (const auto& j : rep) {
    const std::string output = j["output"];
    if (j["status"] == "done") {
      ++done;
      EXPECT_EQ(fs::path(output).filename(), "congress_C001080+congress_N000179_older.png");
      EXPECT_TRUE(fs::exists(output));
      continue;
    }
    EXPECT_FALSE(fs::exists(output)) << output;
    const std::string error = j["error"];
    if (output.find("broken") != std::string::npos) {
      EXPECT_EQ(j["error_kind"], "io") << j.dump();
      EXPECT_NE(error.find("broken.jpg"), std::string::npos) << error;
    } else {
      EXPECT_EQ(j["error_kind"], "no_face") << j.dump();
      EXPECT_NE(error.find("noface_coffee.png"), std::string::npos) << error;
    }
  }
  EXPECT_EQ(done, 1);
  EXPECT_TRUE(temp_files(out).empty());
}

TEST_F(BatchCli, ResumeSkipsUpToDateOutputsAndRefusesStaleOnesUnlessAsked) {
  const std::string in = dir.file("in"), out = dir.file("out");
  copy_faces(in, {"congress_C001080.jpg", "congress_N000179_older.jpg"});
  const auto morph = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {"batch", in, "-o", out, "--engine", "morph", "--size", "64"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_facemix(a);
  };
  auto r = morph({});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string blend = out + "/congress_C001080+congress_N000179_older.png";
  ASSERT_TRUE(fs::exists(blend));
  r = morph({});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("0 done, 1 skipped"), std::string::npos) << r.err;
  // An input newer than the output: stale.
  fs::last_write_time(in + "/congress_C001080.jpg", fs::last_write_time(blend) + std::chrono::seconds(5));
  r = morph({});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("older than its inputs"), std::string::npos) << r.err;
  r = morph({"-n"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 skipped"), std::string::npos) << r.err;
  r = morph({"-u"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 done"), std::string::npos) << r.err;
  r = morph({"-y"});
  EXPECT_NE(r.err.find("1 done"), std::string::npos) << r.err;
  EXPECT_EQ(morph({"-u", "-y"}).exit_code, 2);
}

TEST_F(BatchCli, ManifestJobsWithOptionsAndShardsCoverTheList) {
  const std::string in = dir.file("in");
  copy_faces(in, kThree);
  write_file(dir.file("jobs.csv"),
             "output,input1,input2,input3,weights,paste_into\n"
             "out/ab.png,in/" + kThree[0] + ",in/" + kThree[1] + ",,,\n"
             "out/abc.jpg,in/" + kThree[0] + ",in/" + kThree[1] + ",in/" + kThree[2] + ",\"1,1,2\",\n"
             "out/pasted.png,in/" + kThree[1] + ",in/" + kThree[2] + ",,,2\n");
  auto r = run_facemix({"batch", "--manifest", dir.file("jobs.csv"), "--engine", "morph", "--size", "64", "--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir.file("out/ab.png")));
  EXPECT_TRUE(fs::exists(dir.file("out/abc.jpg")));
  EXPECT_TRUE(fs::exists(dir.file("out/pasted.png")));

  write_file(dir.file("bad.csv"), "output,input1,input2\nx.png,a.jpg\n");
  r = run_facemix({"batch", "--manifest", dir.file("bad.csv"), "--engine", "morph"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("manifest line 2: needs at least 2 inputs"), std::string::npos) << r.err;

  // Shards of a directory's job list: disjoint and complete.
  for (int n : {1, 2, 4}) {
    std::multiset<std::string> seen;
    for (int k = 1; k <= n; ++k) {
      r = run_facemix({"batch", in, "-o", dir.file("o"), "--groups", "2", "--engine", "morph", "--list", "--shard",
                       std::to_string(k) + "/" + std::to_string(n)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      std::istringstream lines(r.out);
      for (std::string l; std::getline(lines, l);) seen.insert(l);
    }
    EXPECT_EQ(seen.size(), 3u);
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 3u);
  }
}
