// The progress bar and the log sink on a terminal: what the screen shows,
// found by replaying the bytes written through a small terminal model (column
// 0 on '\r', erase on ESC[K, wrap at the right margin).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/ansicolor_sink.h>
#include <spdlog/spdlog.h>

#include "progress_bar.h"
#include "status_line.h"
#include "status_line_sink.h"
#include "terminal_model.h"

namespace facemix::cli {
namespace {

using Clock = ProgressBar::Clock;
using test::replay_terminal;

// A stream standing in for the terminal: everything written, as one string.
class CapturedStream {
 public:
  CapturedStream() : file_(open_memstream(&buf_, &size_)) {}
  ~CapturedStream() {
    std::fclose(file_);
    std::free(buf_);
  }
  std::FILE* file() { return file_; }
  std::string text() {
    std::fflush(file_);
    return std::string(buf_, size_);
  }

 private:
  char* buf_ = nullptr;
  std::size_t size_ = 0;
  std::FILE* file_;
};

// A clock the test moves by hand.
struct FakeClock {
  Clock::time_point t{};
  void advance(double seconds) { t += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)); }
  std::function<Clock::time_point()> fn() {
    return [this] { return t; };
  }
};

std::shared_ptr<spdlog::logger> logger_on(std::FILE* f, StatusLine* line) {
  std::shared_ptr<spdlog::sinks::sink> sink =
      std::make_shared<spdlog::sinks::ansicolor_sink<spdlog::details::console_mutex>>(f, spdlog::color_mode::never);
  if (line) sink = std::make_shared<StatusLineSink>(sink, *line);
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  logger->set_pattern("facemix: %^%l%$: %v");
  return logger;
}

bool contains(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

TEST(ProgressLine, ShowsCountRateAndEta) {
  const std::string line = progress_line({"frames", 12, 30, -1.0}, 2.0, 120);
  EXPECT_EQ(line.rfind("frames ", 0), 0u) << line;
  EXPECT_TRUE(contains(line, "] 12/30  2.0 frames/s  ETA 9s")) << line;
  EXPECT_TRUE(contains(progress_line({"project 32px", 130, 300, 1865.34}, 0.32, 120), "3.1 s/step  ETA 8m51s  loss 1865.3400"));
  EXPECT_TRUE(contains(progress_line({"batch", 3, 10, -1.0}, 0.02, 120), "50.0 s/job  ETA 5m50s"));
  EXPECT_TRUE(contains(progress_line({"align", 1, 2, -1.0}, 4.0, 120), "4.0 photos/s"));
  const std::string unknown = progress_line({"project 64px", 3, 300, 0.5}, 0.0, 120);
  EXPECT_FALSE(contains(unknown, "/s")) << unknown;
  EXPECT_FALSE(contains(unknown, "ETA")) << unknown;
  EXPECT_FALSE(contains(progress_line({"frames", 30, 30, -1.0}, 2.0, 120), "ETA")) << "a finished stage has no ETA";
}

TEST(ProgressLine, FitsEveryWidth) {
  for (int width = 1; width <= 130; ++width) {
    const std::string line = progress_line({"project 1024px", 130, 300, 1865.34}, 2.5, width);
    EXPECT_LE(static_cast<int>(line.size()), std::max(1, width - 1)) << width;
    EXPECT_EQ(line.find('\n'), std::string::npos);
  }
}

TEST(ProgressLine, DurationsReadLikeAClock) {
  EXPECT_EQ(format_duration(0.2), "0s");
  EXPECT_EQ(format_duration(59.4), "59s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}

TEST(ProgressBar, RateAndEtaAppearAfterTwoStepsAndRestartWithEachStage) {
  CapturedStream out;
  StatusLine line(out.file(), 100);
  FakeClock clock;
  ProgressBar bar(line, clock.fn());
  auto shown = [&] { return replay_terminal(out.text(), 100); };
  for (int step = 1; step <= 3; ++step) {
    bar.update({"project 32px", step, 11, 10.0});
    if (step < 3) {
      EXPECT_FALSE(contains(shown()[0], "ETA")) << shown()[0];
    }
    clock.advance(0.5);
  }
  // Steps 1 to 3 took 1 s: 2 steps/s, 8 steps left.
  EXPECT_TRUE(contains(shown()[0], "3/11  2.0 steps/s  ETA 4s  loss 10.0000")) << shown()[0];
  bar.update({"project 64px", 1, 5, 9.0});
  EXPECT_TRUE(contains(shown()[0], "project 64px")) << shown()[0];
  EXPECT_FALSE(contains(shown()[0], "ETA")) << shown()[0];
  bar.finish();
  EXPECT_EQ(shown(), std::vector<std::string>{""});
}

TEST(ProgressBar, RedrawsAtMostEvery100ms) {
  CapturedStream out;
  StatusLine line(out.file(), 80);
  FakeClock clock;
  ProgressBar bar(line, clock.fn());
  bar.update({"frames", 1, 100, -1.0});
  const std::size_t after_first = out.text().size();
  for (int step = 2; step <= 50; ++step) {
    clock.advance(0.001);
    bar.update({"frames", step, 100, -1.0});
  }
  EXPECT_EQ(out.text().size(), after_first) << "50 ms of events, no redraw";
  clock.advance(0.1);
  bar.update({"frames", 51, 100, -1.0});
  EXPECT_GT(out.text().size(), after_first);
}

TEST(StatusLineSink, LogLinesGoAboveTheBarNeverOntoIt) {
  CapturedStream out;
  StatusLine line(out.file(), 60);
  ProgressBar bar(line);
  auto log = logger_on(out.file(), &line);
  bar.update({"align", 2, 2, -1.0});
  log->info("projecting 2 face(s)");
  log->warn("a warning");
  const auto screen = replay_terminal(out.text(), 60);
  ASSERT_EQ(screen.size(), 3u) << out.text();
  EXPECT_EQ(screen[0], "facemix: info: projecting 2 face(s)");
  EXPECT_EQ(screen[1], "facemix: warning: a warning");
  EXPECT_EQ(screen[2].rfind("align         [", 0), 0u) << "the bar is drawn again: " << screen[2];
  bar.finish();
  log->info("done");
  EXPECT_EQ(replay_terminal(out.text(), 60), (std::vector<std::string>{"facemix: info: projecting 2 face(s)",
                                                      "facemix: warning: a warning", "facemix: info: done", ""}));
}

TEST(StatusLineSink, WithoutItTheLogLineLandsOnTheBar) {
  // The failure the sink exists for, shown by the same terminal model.
  CapturedStream out;
  StatusLine line(out.file(), 60);
  ProgressBar bar(line);
  auto log = logger_on(out.file(), nullptr);
  bar.update({"align", 2, 2, -1.0});
  log->info("projecting 2 face(s)");
  const auto screen = replay_terminal(out.text(), 60);
  EXPECT_TRUE(contains(screen[0], "2/2facemix: info")) << screen[0];
}

TEST(StatusLineSink, WithNoBarShownLogLinesAreUnchanged) {
  CapturedStream with, without;
  StatusLine line(with.file(), 60);
  logger_on(with.file(), &line)->info("hello");
  logger_on(without.file(), nullptr)->info("hello");
  EXPECT_EQ(with.text(), "facemix: info: hello\n");
  EXPECT_EQ(with.text(), without.text());
}

TEST(TerminalWidth, WindowSizeThenColumnsThen80) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const char* old = std::getenv("COLUMNS");
  const std::string saved = old ? old : "";
  ::setenv("COLUMNS", "97", 1);
  EXPECT_EQ(terminal_width(fds[1]), 97) << "a pipe has no window size";
  ::setenv("COLUMNS", "wide", 1);
  EXPECT_EQ(terminal_width(fds[1]), 80);
  ::unsetenv("COLUMNS");
  EXPECT_EQ(terminal_width(fds[1]), 80);
  ::close(fds[0]);
  ::close(fds[1]);

  // A pseudo-terminal 120 columns wide wins over $COLUMNS.
  const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  const int slave = ::open(::ptsname(master), O_RDWR | O_NOCTTY);
  ASSERT_GE(slave, 0);
  struct winsize ws {};
  ws.ws_col = 120;
  ws.ws_row = 40;
  ASSERT_EQ(::ioctl(slave, TIOCSWINSZ, &ws), 0);
  ::setenv("COLUMNS", "97", 1);
  EXPECT_EQ(terminal_width(slave), 120);
  ::close(slave);
  ::close(master);
  if (old)
    ::setenv("COLUMNS", saved.c_str(), 1);
  else
    ::unsetenv("COLUMNS");
}

}  // namespace
}  // namespace facemix::cli
