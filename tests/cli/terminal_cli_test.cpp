// facemix in a terminal: run under a pseudo-terminal of a chosen width, what
// it wrote is replayed through a terminal model. The progress bar fits the
// width, log lines never share a line with it, and it is gone at the end;
// without a terminal there is no bar and the log is plain text.
#include <gtest/gtest.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <regex>
#include <string>
#include <vector>

#include "test_support.h"
#include "terminal_model.h"

namespace facemix {
namespace {

using test::ScratchDir;

std::string face(const std::string& name) { return test::faces_dir() + "/" + name; }
const std::string kA = "congress_C001080.jpg";
const std::string kB = "congress_N000179_older.jpg";
constexpr int kColumns = 60;

struct PtyResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, as the terminal received them
};

// Runs facemix with stdin, stdout and stderr on a new pseudo-terminal.
PtyResult run_in_terminal(const std::vector<std::string>& args, int columns) {
  struct winsize ws {};
  ws.ws_col = static_cast<unsigned short>(columns);
  ws.ws_row = 40;
  int master = -1;
  const pid_t pid = ::forkpty(&master, nullptr, nullptr, &ws);
  if (pid < 0) {
    ADD_FAILURE() << "forkpty failed";
    return {};
  }
  if (pid == 0) {
    struct termios t {};
    ::tcgetattr(STDOUT_FILENO, &t);
    t.c_oflag &= ~static_cast<tcflag_t>(ONLCR);  // keep '\n' as written, no added '\r'
    ::tcsetattr(STDOUT_FILENO, TCSANOW, &t);
    const std::string binary = test::facemix_binary();
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  PtyResult r;
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(master, buf, sizeof buf);
    if (n > 0) {
      r.output.append(buf, static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      break;  // EIO once the child has closed the terminal
    }
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// Every drawing of the bar (text after a '\r' up to the erase-line code) in
// the terminal's bytes.
std::vector<std::string> bar_drawings(const std::string& bytes) {
  std::vector<std::string> bars;
  static const std::regex bar("\\r([^\\r\\n\\x1b]*\\[[#-]+\\][^\\r\\n\\x1b]*)\\x1b\\[K");
  for (std::sregex_iterator it(bytes.begin(), bytes.end(), bar), end; it != end; ++it) bars.push_back((*it)[1]);
  return bars;
}

void expect_clean_screen(const PtyResult& r, const std::string& stage) {
  const std::vector<std::string> bars = bar_drawings(r.output);
  ASSERT_FALSE(bars.empty()) << "no progress bar drawn:\n" << r.output;
  bool stage_seen = false;
  for (const auto& b : bars) {
    EXPECT_LT(static_cast<int>(b.size()), kColumns) << b;
    stage_seen = stage_seen || b.rfind(stage, 0) == 0;
  }
  EXPECT_TRUE(stage_seen) << stage;
  static const std::regex bar_on_screen("\\[[#-]{8,}\\]");
  const auto screen = test::replay_terminal(r.output, kColumns);
  int log_lines = 0;
  for (const auto& line : screen) {
    const std::size_t at = line.find("facemix: ");
    if (at != std::string::npos) {
      EXPECT_EQ(at, 0u) << "log line shares a line with something: " << line;
      ++log_lines;
    }
    EXPECT_FALSE(std::regex_search(line, bar_on_screen)) << "bar left on screen: " << line;
  }
  EXPECT_GT(log_lines, 0) << "-v logs something";
}

TEST(TerminalCli, MorphSequenceBarFitsAndLogsStayOffIt) {
  ScratchDir dir;
  const PtyResult r = run_in_terminal(
      {face(kA), face(kB), "--frames", "30", "--size", "96", "-v", "-o", dir.file("m.gif")}, kColumns);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_clean_screen(r, "frames");
  // The last drawing of the frames stage (its last step is always drawn) has a rate.
  const std::vector<std::string> bars = bar_drawings(r.output);
  std::string last_frames;
  for (const auto& b : bars)
    if (b.rfind("frames", 0) == 0) last_frames = b;
  EXPECT_NE(last_frames.find("30/30"), std::string::npos) << last_frames;
  EXPECT_TRUE(last_frames.find("frames/s") != std::string::npos || last_frames.find("s/frame") != std::string::npos)
      << last_frames;
}

TEST(TerminalCli, GanBlendBarFitsAndLogsStayOffIt) {
  ScratchDir dir;
  const PtyResult r = run_in_terminal({face(kA), face(kB), "--engine", "gan", "--model",
                                       test::golden_dir() + "/small.safetensors", "--schedule", "16:4,64:4",
                                       "--threads", "1", "--size", "64", "-v", "-o", dir.file("b.png")},
                                      kColumns);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_clean_screen(r, "project 64px");
}

TEST(TerminalCli, QuietDrawsNoBar) {
  ScratchDir dir;
  const PtyResult r =
      run_in_terminal({face(kA), face(kB), "--frames", "8", "--size", "64", "-q", "-o", dir.file("m.gif")}, kColumns);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.find('\r'), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << r.output;
}

TEST(TerminalCli, WithoutATerminalNoBarAndPlainLogs) {
  ScratchDir dir;
  const test::CliResult r =
      test::run_facemix({face(kA), face(kB), "--frames", "8", "--size", "64", "-v", "-o", dir.file("m.gif")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("facemix: debug: "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\x1b'), std::string::npos) << r.err;
}

}  // namespace
}  // namespace facemix
