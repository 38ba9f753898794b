// `facemix score` end to end: text and JSON output, verdicts, exit codes and
// bad inputs.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

#include "test_support.h"

namespace facemix::test {
namespace {

std::string face(const std::string& name) { return faces_dir() + "/" + name; }

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  return lines;
}

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> f;
  std::stringstream ss(line);
  for (std::string x; std::getline(ss, x, '\t');) f.push_back(x);
  return f;
}

TEST(ScoreCli, TextLinesPerImageAndSummary) {
  const auto r = run_facemix({"score", face("congress_N000189_beard_glasses.jpg"), face("derived_small_face_N000189.jpg"),
                              face("congress_C001080.jpg")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  const auto same = fields(lines[0]), other = fields(lines[1]), summary = fields(lines[2]);
  ASSERT_EQ(same.size(), 4u);
  EXPECT_LT(std::stod(same[0]), 0.6);
  EXPECT_EQ(same[1], "same");
  EXPECT_EQ(same[3], face("derived_small_face_N000189.jpg"));
  EXPECT_GT(std::stod(other[0]), 0.6);
  EXPECT_EQ(other[1], "different");
  EXPECT_EQ(other[2], "different");
  EXPECT_EQ(summary[0], other[0]);  // the max
  EXPECT_EQ(summary[1], "not-all-same");
}

TEST(ScoreCli, JsonForScripts) {
  const auto r = run_facemix({"score", "--json", face("congress_S001223_glasses.jpg"),
                              face("derived_alpha_cutout_S001223.png")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["images"].size(), 1u);
  const double d = j["images"][0]["distance"].get<double>();
  EXPECT_LT(d, 0.6);
  EXPECT_EQ(j["images"][0]["same_at_0.6"], true);
  EXPECT_EQ(j["max_distance"].get<double>(), d);
  EXPECT_EQ(j["all_same_at_0.6"], true);
  EXPECT_NE(j["identity_model"].get<std::string>().find("face_recognition_model"), std::string::npos);
}

TEST(ScoreCli, ProbeWithoutAFaceIsExit3) {
  const auto r = run_facemix({"score", face("noface_coffee.png"), face("congress_C001080.jpg")});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("noface_coffee.png"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(ScoreCli, AnImageWithoutAFaceIsReportedAndTheOthersScored) {
  const auto r = run_facemix({"score", face("congress_C001080.jpg"), face("noface_coffee.png"),
                              face("congress_K000389_flag.jpg")});
  EXPECT_EQ(r.exit_code, 3);
  const auto lines = lines_of(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(fields(lines[0])[1], "error");
  EXPECT_NE(fields(lines[1])[0], "-");
  EXPECT_NE(r.err.find("noface_coffee.png"), std::string::npos);
}

TEST(ScoreCli, UnreadableImageIsExit4) {
  ScratchDir dir;
  write_file(dir.file("broken.jpg"), "not a jpeg");
  const auto r = run_facemix({"score", face("congress_C001080.jpg"), dir.file("broken.jpg")});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("broken.jpg"), std::string::npos);
}

TEST(ScoreCli, MissingOrDamagedIdentityModelIsExit5) {
  ScratchDir dir;
  auto r = run_facemix({"score", "--identity-model", dir.file("none.safetensors"), face("congress_C001080.jpg"),
                        face("congress_K000389_flag.jpg")});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("none.safetensors"), std::string::npos) << r.err;
  write_file(dir.file("bad.safetensors"), std::string(64, 'x'));
  r = run_facemix({"score", "--identity-model", dir.file("bad.safetensors"), face("congress_C001080.jpg"),
                   face("congress_K000389_flag.jpg")});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("bad.safetensors"), std::string::npos) << r.err;
}

TEST(ScoreCli, NeedsAProbeAndAnImage) {
  EXPECT_EQ(run_facemix({"score", face("congress_C001080.jpg")}).exit_code, 2);
}

}  // namespace
}  // namespace facemix::test
