// The GAN engine's identity refinement from the command line (--refine-steps,
// --identity balance), with the 64 px golden generator and the shipped
// identity model: off by default (the default output's bytes do not depend on
// it), reported when it runs, refused where it cannot run; likewise the
// projection's identity term (--identity-weight).
#include <gtest/gtest.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "test_support.h"

using namespace facemix::test;

namespace {

class GanRefineCli : public ::testing::Test {
 protected:
  void SetUp() override { ::setenv("FACEMIX_MODEL", "", 1); }
  // facemix A B --engine gan --model small --schedule quick --size 64 -o OUT + args
  CliResult gan(const std::string& out, std::vector<std::string> args) {
    args.insert(args.begin(), {faces_dir() + "/congress_C001080.jpg", faces_dir() + "/congress_N000179_older.jpg"});
    args.insert(args.end(), {"--engine", "gan", "--model", golden_dir() + "/small.safetensors", "--schedule",
                             "16:4,64:4", "--threads", "1", "--size", "64", "-o", dir.file(out)});
    return run_facemix(args);
  }
  std::string bytes(const std::string& name) const { return read_file(dir.file(name)); }
  ScratchDir dir;
};

TEST_F(GanRefineCli, OffByDefaultAndTheDefaultBytesStay) {
  ASSERT_EQ(gan("default.png", {}).exit_code, 0);
  const auto zero = gan("zero.png", {"--refine-steps", "0", "--report", dir.file("zero.json")});
  ASSERT_EQ(zero.exit_code, 0) << zero.err;
  ASSERT_EQ(gan("off.png", {"--identity", "off"}).exit_code, 0);
  EXPECT_TRUE(bytes("default.png") == bytes("zero.png"));
  EXPECT_TRUE(bytes("default.png") == bytes("off.png"));
  const auto report = nlohmann::json::parse(bytes("zero.json"));
  EXPECT_FALSE(report.contains("refinement"));
  EXPECT_FALSE(report["settings"].contains("refine_steps"));
}

TEST_F(GanRefineCli, ProjectionIdentityWeightZeroKeepsTheBytes) {
  ASSERT_EQ(gan("default.png", {}).exit_code, 0);
  ASSERT_EQ(gan("zero.png", {"--identity-weight", "0"}).exit_code, 0);
  const auto on = gan("on.png", {"--identity-weight", "3e5", "--save-latents", dir.file("lat")});
  ASSERT_EQ(on.exit_code, 0) << on.err;
  EXPECT_TRUE(bytes("default.png") == bytes("zero.png"));
  EXPECT_FALSE(bytes("default.png") == bytes("on.png"));
  // The latents' sidecar records the term.
  EXPECT_NE(read_file(dir.file("lat/congress_C001080.json")).find("identity_weight"), std::string::npos);
}

TEST_F(GanRefineCli, RefinementRunsAndIsReported) {
  ASSERT_EQ(gan("plain.png", {}).exit_code, 0);
  const auto r = gan("refined.png", {"--refine-steps", "3", "--report", dir.file("r.json"), "-v"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("identity refinement: 3 steps"), std::string::npos) << r.err;
  EXPECT_FALSE(bytes("plain.png") == bytes("refined.png"));
  const auto report = nlohmann::json::parse(bytes("r.json"));
  EXPECT_EQ(report["settings"]["refine_steps"], 3);
  const auto& f = report["refinement"];
  EXPECT_EQ(f["steps"], 3);
  EXPECT_EQ(f["render_resolution"], 64);
  EXPECT_EQ(f["initial_distances"].size(), 2u);
  EXPECT_EQ(f["final_distances"].size(), 2u);
  EXPECT_LE(f["final_loss"].get<double>(), f["initial_loss"].get<double>());
  // Same inputs, same bytes.
  ASSERT_EQ(gan("again.png", {"--refine-steps", "3"}).exit_code, 0);
  EXPECT_TRUE(bytes("refined.png") == bytes("again.png"));
}

TEST_F(GanRefineCli, IdentityBalanceRefines) {
  // --identity balance alone means 30 steps; --refine-steps overrides it.
  const auto r = gan("b.png", {"--identity", "balance", "--report", dir.file("b.json")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(bytes("b.json"))["refinement"]["steps"], 30);
  const auto two = gan("b2.png", {"--identity", "balance", "--refine-steps", "2", "--report", dir.file("b2.json")});
  ASSERT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(nlohmann::json::parse(bytes("b2.json"))["refinement"]["steps"], 2);
  // Truncation applies before the refinement, which starts from the truncated mix.
  ASSERT_EQ(gan("t.png", {"--refine-steps", "2", "--truncation", "0.7"}).exit_code, 0);
}

TEST_F(GanRefineCli, RefusedWhereItCannotRun) {
  auto refused = [&](const CliResult& r, const std::string& why) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
  };
  refused(gan("a.png", {"--refine-steps", "3", "--identity", "off"}), "--refine-steps needs the identity model");
  refused(gan("a.png", {"--identity-weight", "1", "--identity", "off"}), "--identity-weight needs the identity model");
  refused(gan("a.gif", {"--refine-steps", "3", "--frames", "3"}), "--refine-steps works on a single blend");
  refused(run_facemix({faces_dir() + "/congress_C001080.jpg", faces_dir() + "/congress_N000179_older.jpg",
                       "--engine", "morph", "--refine-steps", "3", "-o", dir.file("m.png")}),
          "--refine-steps needs the GAN engine");
  EXPECT_TRUE(dir.list().empty());
}

}  // namespace
