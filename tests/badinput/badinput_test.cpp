// Runs every row of tests/badinput/cases.tsv through the facemix binary on the
// corpus scripts/make_bad_inputs.py writes: each case must end with its
// documented exit code and a one-line message holding the expected fragment
// (naming the input), leave no output behind and print nothing on stdout when
// it fails, and never modify a corpus file.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "facemix/sha256.h"
#include "test_support.h"

namespace fs = std::filesystem;
using facemix::test::ScratchDir;

namespace {

struct Case {
  int line = 0;
  std::string file;                // corpus file name ("-" = none)
  std::vector<std::string> env;    // NAME=VALUE set while it runs
  std::vector<std::string> args;   // {file} {out} {tiny} {corpus} substituted when run
  int exit_code = 0;
  std::string fragment;            // expected in stderr ("-" = nothing expected)
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep))
    if (!part.empty() || sep == '\t') out.push_back(part);
  return out;
}

std::vector<Case> load_cases() {
  std::ifstream in(facemix::test::source_dir() + "/tests/badinput/cases.tsv");
  std::vector<Case> cases;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> cols = split(line, '\t');
    if (cols.size() != 4) {
      ADD_FAILURE() << "cases.tsv:" << n << ": expected 4 tab-separated columns";
      continue;
    }
    Case c;
    c.line = n;
    c.file = cols[0];
    for (const std::string& a : split(cols[1], ' ')) {
      if (c.args.empty() && a.find('=') != std::string::npos && a[0] != '-') c.env.push_back(a);
      else c.args.push_back(a);
    }
    c.exit_code = std::stoi(cols[2]);
    c.fragment = cols[3];
    cases.push_back(c);
  }
  return cases;
}

std::vector<std::string> files_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.push_back(e.path().string());
  return out;
}

TEST(BadInput, EveryCaseFailsCleanly) {
  const std::vector<Case> cases = load_cases();
  ASSERT_GE(cases.size(), 20u);
  ScratchDir corpus;
  const std::string cmd = "/usr/bin/python3 '" + facemix::test::source_dir() + "/scripts/make_bad_inputs.py' '" +
                          corpus.path() + "' --shared '" + facemix::test::shared_dir() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string tiny = facemix::test::golden_dir() + "/tiny.safetensors";
  std::map<std::string, std::string> before;  // corpus file -> sha256
  for (const std::string& f : files_in(corpus.path())) before[f] = facemix::sha256_file_hex(f);

  for (const Case& c : cases) {
    SCOPED_TRACE("cases.tsv:" + std::to_string(c.line) + " (" + c.file + ")");
    ScratchDir out;
    const std::string input = c.file == "-" ? "" : corpus.file(c.file);
    ASSERT_TRUE(input.empty() || fs::exists(input)) << "the generator wrote no " << c.file;
    std::vector<std::string> args;
    for (const std::string& a : c.args)
      args.push_back(replace_all(replace_all(replace_all(replace_all(a, "{file}", input), "{out}", out.path()),
                                             "{tiny}", tiny),
                                 "{corpus}", corpus.path()));
    for (const std::string& e : c.env) ::putenv(const_cast<char*>(e.c_str()));
    const facemix::test::CliResult r = facemix::test::run_facemix(args);
    for (const std::string& e : c.env) ::unsetenv(e.substr(0, e.find('=')).c_str());

    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    if (c.fragment != "-") {
      EXPECT_NE(r.err.find(c.fragment), std::string::npos) << r.err;
    }
    if (c.exit_code != 0) {
      EXPECT_TRUE(files_in(out.path()).empty()) << "a failed run left output behind";
      if (!input.empty() && c.exit_code != 2) {
        EXPECT_NE(r.err.find(c.file), std::string::npos) << "the message does not name the input";
      }
      EXPECT_TRUE(r.out.empty()) << "stdout on failure: " << r.out;
    } else {
      EXPECT_FALSE(files_in(out.path()).empty()) << "an accepted input produced no output";
    }
  }
  for (const auto& [path, hash] : before) EXPECT_EQ(facemix::sha256_file_hex(path), hash) << path << " was modified";
  EXPECT_EQ(files_in(corpus.path()).size(), before.size()) << "a case wrote into the corpus directory";
}

}  // namespace
