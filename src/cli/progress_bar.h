// A progress bar on stderr for the library's ProgressEvents.
//
//   facemix::cli::ProgressBar bar(g.progress_bar());   // disabled: draws nothing
//   run_stage(..., bar.callback());
//   bar.finish();                                      // clears the line
//
// Draws one line, redrawn in place with '\r':
//   frames  [##########----------]  12/30  loss 0.1234
// Redraws at most every 100 ms (and at each stage's last step), so even
// per-pixel callbacks cost little.
#pragma once

#include <chrono>
#include <string>

#include "facemix/progress.h"

namespace facemix::cli {

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled);
  ~ProgressBar();  // calls finish()
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // A callback drawing into this bar; valid while the bar lives. Empty when
  // the bar is disabled, so stages can skip building events.
  ProgressCallback callback();

  // Draws one event now (rate-limited unless it ends a stage).
  void update(const ProgressEvent& event);

  // Erases the bar's line, if one was drawn.
  void finish();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::string last_stage_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace facemix::cli
