#include "progress_bar.h"

#include <algorithm>
#include <cstdio>

namespace facemix::cli {

namespace {
constexpr int kBarWidth = 24;
constexpr auto kMinInterval = std::chrono::milliseconds(100);
}  // namespace

ProgressBar::ProgressBar(bool enabled) : enabled_(enabled) {}

ProgressBar::~ProgressBar() { finish(); }

ProgressCallback ProgressBar::callback() {
  if (!enabled_) return {};
  return [this](const ProgressEvent& e) { update(e); };
}

void ProgressBar::update(const ProgressEvent& e) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool stage_end = e.total > 0 && e.step >= e.total;
  if (e.stage == last_stage_ && !stage_end && now - last_draw_ < kMinInterval) return;
  last_stage_ = e.stage;
  last_draw_ = now;

  std::string line = "\r" + e.stage;
  if (line.size() < 14) line.resize(14, ' ');
  if (e.total > 0) {
    const int filled = static_cast<int>(static_cast<long>(kBarWidth) * std::min(e.step, e.total) / e.total);
    line += " [" + std::string(filled, '#') + std::string(kBarWidth - filled, '-') + "] " +
            std::to_string(e.step) + "/" + std::to_string(e.total);
  } else {
    line += " " + std::to_string(e.step);
  }
  if (e.loss >= 0) {
    char loss[32];
    std::snprintf(loss, sizeof loss, "  loss %.4f", e.loss);
    line += loss;
  }
  line += "\x1b[K";  // clear what a longer previous line left
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (!drawn_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace facemix::cli
