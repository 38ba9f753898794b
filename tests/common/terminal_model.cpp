#include "terminal_model.h"

namespace facemix::test {

std::vector<std::string> replay_terminal(const std::string& bytes, int width) {
  std::vector<std::string> lines(1);
  std::size_t row = 0, col = 0;
  const std::size_t w = static_cast<std::size_t>(width);
  auto new_line = [&] {
    ++row;
    if (row == lines.size()) lines.emplace_back();
  };
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\r') {
      col = 0;
    } else if (c == '\n') {
      new_line();
      col = 0;
    } else if (c == '\x1b' && i + 1 < bytes.size() && bytes[i + 1] == '[') {
      std::size_t end = i + 2;
      while (end < bytes.size() && !(bytes[end] >= '@' && bytes[end] <= '~')) ++end;
      if (end < bytes.size() && bytes[end] == 'K' && lines[row].size() > col) lines[row].resize(col);
      i = end;
    } else {
      if (col == w) {  // the margin was reached: this character wraps
        new_line();
        col = 0;
      }
      std::string& line = lines[row];
      if (line.size() < col) line.resize(col, ' ');
      if (line.size() == col)
        line += c;
      else
        line[col] = c;
      ++col;
    }
  }
  return lines;
}

}  // namespace facemix::test
