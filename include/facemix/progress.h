// Progress reporting from long-running library stages to the caller.
//
// The library never draws anything itself: it calls a ProgressCallback, and
// the CLI turns the events into a bar (on a TTY) or nothing (-q / not a TTY).
// A callback may throw facemix::Interrupted to stop the stage cleanly.
#pragma once

#include <functional>
#include <string>

namespace facemix {

struct ProgressEvent {
  std::string stage;   // short name of the running stage, e.g. "project 64px"
  int step = 0;        // steps done in this stage (1-based once started)
  int total = 0;       // steps in this stage; 0 when unknown
  double loss = -1.0;  // current loss where the stage has one, else negative
};

using ProgressCallback = std::function<void(const ProgressEvent&)>;

}  // namespace facemix

namespace facemix {

// Cooperative interruption. The CLI's SIGINT/SIGTERM handler calls
// request_interrupt() (async-signal-safe); long loops call check_interrupt(),
// which throws facemix::Interrupted so that RAII cleans up temporary files.
void request_interrupt() noexcept;
bool interrupt_requested() noexcept;
void check_interrupt();  // throws Interrupted when requested

}  // namespace facemix
