// The one line at the bottom of a terminal that a progress bar redraws in
// place, shared with everything else that writes to the same stream (the log
// sink), so that the two never end up on one line.
//
//   StatusLine& line = StatusLine::for_stderr();
//   line.show("frames [####----] 12/30");      // drawn in place, cut to the width
//   line.write_above([] { std::fputs("facemix: info: ...\n", stderr); });
//   line.clear();                               // erases it
//
// Everything it writes is ASCII: one character is one column.
#pragma once

#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

namespace facemix::cli {

// Columns of the terminal on `fd`: its window size (ioctl TIOCGWINSZ), else a
// positive $COLUMNS, else 80.
// ensures: returns >= 1.
int terminal_width(int fd);

class StatusLine {
 public:
  // Draws on `out`, which must be a terminal (or act as one, in tests).
  // fixed_width > 0 uses that many columns instead of asking the terminal
  // before each draw (which follows window resizes).
  explicit StatusLine(std::FILE* out, int fixed_width = 0);
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;

  // The status line of stderr, shared by the progress bars and the log sink.
  static StatusLine& for_stderr();

  // Replaces the line with `text` (one line, no '\n'), cut to one column less
  // than the width: a line that filled the last column could wrap.
  void show(const std::string& text);

  // Erases the line, if one is shown.
  void clear();

  // Runs `write`, which prints whole lines to the same stream, with the status
  // line erased first and drawn again after, all under this line's lock.
  void write_above(const std::function<void()>& write);

  int width() const;

 private:
  void draw_locked();
  void erase_locked();

  std::FILE* out_;
  int fixed_width_;
  std::string text_;   // what show() asked for, before cutting
  bool shown_ = false;
  std::mutex mutex_;
};

}  // namespace facemix::cli
