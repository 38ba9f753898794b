#include "status_line.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace facemix::cli {

namespace {
// Back to column 0, then erase to the end of the line (ANSI "EL").
constexpr const char* kEraseLine = "\r\x1b[K";
}  // namespace

int terminal_width(int fd) {
  struct winsize ws {};
  if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  if (const char* env = std::getenv("COLUMNS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0 && n < 100000) return static_cast<int>(n);
  }
  return 80;
}

StatusLine::StatusLine(std::FILE* out, int fixed_width) : out_(out), fixed_width_(fixed_width) {}

StatusLine& StatusLine::for_stderr() {
  static StatusLine line(stderr);
  return line;
}

int StatusLine::width() const { return fixed_width_ > 0 ? fixed_width_ : terminal_width(::fileno(out_)); }

void StatusLine::show(const std::string& text) {
  const std::lock_guard<std::mutex> lock(mutex_);
  text_ = text;
  draw_locked();
}

void StatusLine::clear() {
  const std::lock_guard<std::mutex> lock(mutex_);
  erase_locked();
  text_.clear();
}

void StatusLine::write_above(const std::function<void()>& write) {
  const std::lock_guard<std::mutex> lock(mutex_);
  const bool redraw = shown_;
  erase_locked();
  write();
  if (redraw) draw_locked();
}

void StatusLine::draw_locked() {
  const std::size_t columns = static_cast<std::size_t>(std::max(1, width() - 1));
  std::fputs("\r", out_);
  std::fwrite(text_.data(), 1, std::min(text_.size(), columns), out_);
  std::fputs("\x1b[K", out_);  // what a longer previous line left
  std::fflush(out_);
  shown_ = true;
}

void StatusLine::erase_locked() {
  if (!shown_) return;
  std::fputs(kEraseLine, out_);
  std::fflush(out_);
  shown_ = false;
}

}  // namespace facemix::cli
