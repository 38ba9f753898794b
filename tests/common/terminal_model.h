// What a terminal shows for the bytes a program wrote to it, for tests of the
// progress bar and log lines: printable ASCII is written at the cursor and
// wraps at the right margin, '\r' goes to column 0, '\n' to the next line,
// ESC [ K erases to the end of the line, other ESC [ ... sequences (colours)
// are ignored. The scrollback is kept: every line ever shown, top to bottom.
#pragma once

#include <string>
#include <vector>

namespace facemix::test {

// The screen's lines after `bytes`, the cursor's line last (possibly empty).
// requires: width >= 1.
std::vector<std::string> replay_terminal(const std::string& bytes, int width);

}  // namespace facemix::test
