#include "test_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace fs = std::filesystem;

namespace facemix::test {

std::string shared_dir() {
  if (const char* env = std::getenv("FACEMIX_SHARED")) return env;
  return fs::weakly_canonical(FACEMIX_SHARED_DIR).string();
}
std::string faces_dir() { return shared_dir() + "/faces"; }
std::string golden_dir() { return shared_dir() + "/golden"; }
std::string source_dir() { return FACEMIX_SOURCE_DIR; }
std::string facemix_binary() { return FACEMIX_BINARY; }

ScratchDir::ScratchDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path p = fs::temp_directory_path() /
                 ("facemix-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    if (fs::create_directory(p)) {
      path_ = p.string();
      return;
    }
  }
  throw std::runtime_error("cannot create a scratch directory");
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::string> ScratchDir::list() const {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(path_)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

namespace {

// Starts the facemix binary with `args`, stdin from /dev/null and stdout/stderr
// to the given files ("" = /dev/null), in `cwd` when set.
pid_t spawn_facemix(const std::vector<std::string>& args, const std::string& out_path,
                    const std::string& err_path, const std::string& cwd) {
  std::vector<std::string> argv_s{facemix_binary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.empty() ? "/dev/null" : out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.empty() ? "/dev/null" : err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string old_cwd;
  if (!cwd.empty()) {
    old_cwd = fs::current_path().string();
    fs::current_path(cwd);
  }
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  if (!old_cwd.empty()) fs::current_path(old_cwd);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + facemix_binary());
  return pid;
}

}  // namespace

pid_t start_facemix(const std::vector<std::string>& args) { return spawn_facemix(args, "", "", ""); }

CliResult run_facemix(const std::vector<std::string>& args, const std::string& cwd) {
  ScratchDir io;
  const std::string out_path = io.file("stdout"), err_path = io.file("stderr");
  const pid_t pid = spawn_facemix(args, out_path, err_path, cwd);
  int status = 0;
  waitpid(pid, &status, 0);
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

}  // namespace facemix::test
