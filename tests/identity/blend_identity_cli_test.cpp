#include <filesystem>
#include <fstream>
// Identity in blends, end to end: the main form's default balances and
// reports, -w keeps the plain morph's bytes, --identity off never reads the
// identity model, --report and batch reports carry the figures.
#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace facemix::test {
namespace {

std::string face(const std::string& name) { return faces_dir() + "/" + name; }

const std::vector<std::string> kPair = {face("congress_A000370_hat.jpg"), face("congress_K000389_flag.jpg")};

std::vector<std::string> blend(const std::string& out, std::vector<std::string> extra) {
  std::vector<std::string> args = kPair;
  args.insert(args.end(), {"-o", out, "--size", "256"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

TEST(BlendIdentityCli, WeightsAloneKeepThePlainMorphsBytesAndReport) {
  ScratchDir dir;
  const auto off = run_facemix(blend(dir.file("off.png"), {"--identity", "off"}));
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(off.err.find("identity:"), std::string::npos) << off.err;
  const auto w = run_facemix(blend(dir.file("w.png"), {"-w", "0.5,0.5"}));
  ASSERT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(read_file(dir.file("off.png")), read_file(dir.file("w.png")));
  EXPECT_NE(w.err.find("identity: distance to congress_A000370_hat.jpg"), std::string::npos) << w.err;
}

TEST(BlendIdentityCli, DefaultBalancesAndTheReportSaysHow) {
  ScratchDir dir;
  const auto r = run_facemix(blend(dir.file("b.png"), {"--report", dir.file("b.json")}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(read_file(dir.file("b.json")));
  EXPECT_EQ(j["settings"]["identity"], "balance");
  EXPECT_EQ(j["weights"]["requested"], nlohmann::json::array({0.5, 0.5}));
  ASSERT_TRUE(j["weights"]["used"].contains("eyes"));
  EXPECT_EQ(j["weights"]["used"]["backdrop"], nlohmann::json::array({0.5, 0.5}));
  ASSERT_EQ(j["identity"]["distances"].size(), 2u);
  const double balanced = j["identity"]["max_distance"].get<double>();

  const auto p = run_facemix(blend(dir.file("p.png"), {"-w", "0.5,0.5", "--report", dir.file("p.json")}));
  ASSERT_EQ(p.exit_code, 0) << p.err;
  const auto pj = nlohmann::json::parse(read_file(dir.file("p.json")));
  EXPECT_EQ(pj["settings"]["identity"], "report");
  EXPECT_LE(balanced, pj["identity"]["max_distance"].get<double>() + 1e-9);
  // Same inputs, same bytes.
  ASSERT_EQ(run_facemix(blend(dir.file("b2.png"), {})).exit_code, 0);
  EXPECT_EQ(read_file(dir.file("b.png")), read_file(dir.file("b2.png")));
}

TEST(BlendIdentityCli, OffNeverReadsTheIdentityModel) {
  ScratchDir dir;
  write_file(dir.file("broken.safetensors"), "not a model");
  ::setenv("FACEMIX_IDENTITY_MODEL", dir.file("broken.safetensors").c_str(), 1);
  const auto off = run_facemix(blend(dir.file("off.png"), {"--identity", "off"}));
  const auto on = run_facemix(blend(dir.file("on.png"), {"--identity", "balance"}));
  ::unsetenv("FACEMIX_IDENTITY_MODEL");
  EXPECT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(on.exit_code, 5);
  EXPECT_NE(on.err.find("broken.safetensors"), std::string::npos) << on.err;
  EXPECT_FALSE(std::ifstream(dir.file("on.png")).good());
}

TEST(BlendIdentityCli, BatchReportsTheChosenWeightsAndDistances) {
  ScratchDir dir;
  const std::string in = dir.file("in");
  std::filesystem::create_directories(in);
  std::filesystem::copy_file(kPair[0], in + "/a.jpg");
  std::filesystem::copy_file(kPair[1], in + "/b.jpg");
  const auto r = run_facemix({"batch", in, "-o", dir.file("out"), "--engine", "morph", "--size", "256", "--report",
                              dir.file("report.jsonl")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(read_file(dir.file("report.jsonl")));
  EXPECT_EQ(j["status"], "done");
  ASSERT_TRUE(j.contains("weights"));
  EXPECT_TRUE(j["weights"].contains("mouth"));
  ASSERT_TRUE(j.contains("identity"));
  EXPECT_EQ(j["identity"]["distances"].size(), 2u);
}

}  // namespace
}  // namespace facemix::test
