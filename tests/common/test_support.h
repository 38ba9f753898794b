// Helpers shared by the test suite: fixture paths, scratch directories, and
// running the facemix binary as a user would.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace facemix::test {

// ../shared next to the source tree (or $FACEMIX_SHARED).
std::string shared_dir();
std::string faces_dir();   // shared_dir()/faces
std::string golden_dir();  // shared_dir()/golden
std::string source_dir();  // the project's source tree
std::string facemix_binary();

// A fresh empty directory under the system temp dir, removed on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::vector<std::string> list() const;  // file names inside, sorted

 private:
  std::string path_;
};

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs the facemix binary with `args` (no shell), stdin from /dev/null.
CliResult run_facemix(const std::vector<std::string>& args, const std::string& cwd = "");

// Starts the facemix binary with `args` in the background (stdin, stdout and
// stderr on /dev/null) and returns its pid; the caller waits for it (waitpid).
pid_t start_facemix(const std::vector<std::string>& args);

std::string read_file(const std::string& path);
void write_file(const std::string& path, const std::string& bytes);

}  // namespace facemix::test
