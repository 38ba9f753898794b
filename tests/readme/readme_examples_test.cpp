// Runs every command of README.md's examples block, as a user would, in a
// folder holding the two example photos (a.jpg, b.jpg) and the tiny golden
// generator (tiny.safetensors). Each must succeed; the README stays true.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "test_support.h"

namespace fs = std::filesystem;
using namespace facemix::test;

namespace {

std::vector<std::vector<std::string>> readme_example_commands() {
  std::istringstream in(read_file(source_dir() + "/README.md"));
  std::vector<std::vector<std::string>> commands;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.find("<!-- readme-examples:begin -->") != std::string::npos) inside = true;
    if (line.find("<!-- readme-examples:end -->") != std::string::npos) inside = false;
    if (!inside || line.rfind("$ facemix", 0) != 0) continue;
    std::istringstream words(line.substr(std::string("$ facemix").size()));
    std::vector<std::string> args;
    for (std::string w; words >> w;) args.push_back(w);
    commands.push_back(args);
  }
  return commands;
}

std::vector<std::string> example_photos() {
  std::vector<std::string> photos;
  for (const auto& e : fs::directory_iterator(source_dir() + "/examples"))
    if (e.path().extension() == ".jpg") photos.push_back(e.path().string());
  std::sort(photos.begin(), photos.end());
  return photos;
}

}  // namespace

TEST(ReadmeExamples, EveryCommandSucceeds) {
  const auto commands = readme_example_commands();
  ASSERT_GE(commands.size(), 5u) << "README.md examples block not found or emptied";
  const auto photos = example_photos();
  ASSERT_EQ(photos.size(), 2u) << "examples/ should hold exactly two .jpg portraits";

  ScratchDir dir;
  fs::copy_file(photos[0], dir.file("a.jpg"));
  fs::copy_file(photos[1], dir.file("b.jpg"));
  fs::copy_file(golden_dir() + "/tiny.safetensors", dir.file("tiny.safetensors"));

  for (const auto& args : commands) {
    std::string shown = "facemix";
    for (const auto& a : args) shown += " " + a;
    SCOPED_TRACE(shown);
    const auto before = dir.list();
    CliResult r = run_facemix(args, dir.path());
    EXPECT_EQ(r.exit_code, 0) << r.err;
    const bool prints_only = !args.empty() && (args[0] == "info" || args[0] == "score");
    if (prints_only)
      EXPECT_FALSE(r.out.empty());
    else
      EXPECT_GT(dir.list().size(), before.size()) << "the command wrote nothing";
  }
}
