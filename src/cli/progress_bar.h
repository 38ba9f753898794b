// A progress bar on stderr for the library's ProgressEvents.
//
//   facemix::cli::ProgressBar bar(g.progress_bar());   // disabled: draws nothing
//   run_stage(..., bar.callback());
//   bar.finish();                                      // clears the line
//
// Draws one line on the terminal's status line (status_line.h), redrawn in
// place and cut to the terminal's width, never wrapped:
//   project 32px  [########--------] 130/300  2.4 steps/s  ETA 1m04s  loss 1865.3400
// The rate and ETA are per stage (a new stage name starts them again), over
// the stage so far, counted from the stage's first event, and shown once two
// steps have passed. For "batch" the steps are jobs, so its ETA is that of the
// whole batch. Redraws at most every 100 ms (and at each stage's last step),
// so even per-pixel callbacks cost little.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "facemix/progress.h"
#include "status_line.h"

namespace facemix::cli {

// "42s", "3m05s", "1h02m" (rounded to whole seconds).
std::string format_duration(double seconds);

// The bar's text for `event`, at most width - 1 columns. rate: steps per
// second, or <= 0 when not known yet (then there is no rate and no ETA).
std::string progress_line(const ProgressEvent& event, double rate, int width);

class ProgressBar {
 public:
  using Clock = std::chrono::steady_clock;

  // Draws on stderr's status line when enabled; draws nothing otherwise.
  explicit ProgressBar(bool enabled);
  // Draws on `line` (which must outlive the bar), reading the time from `now`.
  explicit ProgressBar(StatusLine& line, std::function<Clock::time_point()> now = Clock::now);
  ~ProgressBar();  // calls finish()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // A callback drawing into this bar; valid while the bar lives. Empty when
  // the bar is disabled, so stages can skip building events.
  ProgressCallback callback();

  // Takes one event (thread-safe); draws it unless the last draw was under
  // 100 ms ago in the same stage and this event does not end the stage.
  void update(const ProgressEvent& event);

  // Erases the bar's line, if one was drawn. A later update draws it again.
  void finish();

 private:
  StatusLine* line_;  // null when disabled
  std::function<Clock::time_point()> now_;
  std::mutex mutex_;
  std::string stage_;
  int first_step_ = 0;  // step and time of the stage's first event: where its rate starts
  Clock::time_point first_time_{}, last_draw_{};
  bool drawn_ = false;
};

}  // namespace facemix::cli
