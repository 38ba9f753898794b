#include "progress_bar.h"

#include <algorithm>
#include <cstdio>

namespace facemix::cli {

namespace {

constexpr auto kMinInterval = std::chrono::milliseconds(100);
constexpr int kMinStepsForRate = 2;  // one step's time says little (warm-up, caches)
constexpr std::size_t kStageColumns = 13;

// What a stage's steps are, for the rate: "align" counts photos, "frames"
// frames, "batch" jobs; the projection's stages count optimiser steps.
const char* step_unit(const std::string& stage) {
  if (stage.rfind("align", 0) == 0) return "photo";
  if (stage.rfind("frames", 0) == 0) return "frame";
  if (stage.rfind("batch", 0) == 0) return "job";
  return "step";
}

std::string format_rate(double rate, const char* unit) {
  char buf[48];
  if (rate >= 1.0)
    std::snprintf(buf, sizeof buf, "%.1f %ss/s", rate, unit);
  else
    std::snprintf(buf, sizeof buf, "%.1f s/%s", 1.0 / rate, unit);
  return buf;
}

}  // namespace

std::string format_duration(double s) {
  char buf[32];
  const long t = static_cast<long>(std::max(0.0, s) + 0.5);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

std::string progress_line(const ProgressEvent& e, double rate, int width) {
  std::string head = e.stage;
  if (head.size() < kStageColumns) head.resize(kStageColumns, ' ');
  std::string count = " " + std::to_string(e.step);
  if (e.total > 0) count += "/" + std::to_string(e.total);
  std::string tail;
  if (rate > 0) {
    tail += "  " + format_rate(rate, step_unit(e.stage));
    if (e.total > 0 && e.step < e.total) tail += "  ETA " + format_duration((e.total - e.step) / rate);
  }
  if (e.loss >= 0) {
    char loss[32];
    std::snprintf(loss, sizeof loss, "  loss %.4f", e.loss);
    tail += loss;
  }
  std::string line = head;
  if (e.total > 0) {
    // The bar takes what the text leaves, within limits; a narrow terminal
    // cuts the end of the line (the loss first) rather than the bar.
    const int text = static_cast<int>(head.size() + count.size() + tail.size()) + 3;  // " [" "]"
    const int bar = std::clamp(width - 1 - text, 8, 24);
    const int filled = static_cast<int>(static_cast<long>(bar) * std::clamp(e.step, 0, e.total) / e.total);
    line += " [" + std::string(filled, '#') + std::string(bar - filled, '-') + "]";
  }
  line += count + tail;
  line.resize(std::min(line.size(), static_cast<std::size_t>(std::max(1, width - 1))));
  return line;
}

ProgressBar::ProgressBar(bool enabled)
    : line_(enabled ? &StatusLine::for_stderr() : nullptr), now_(Clock::now) {}

ProgressBar::ProgressBar(StatusLine& line, std::function<Clock::time_point()> now)
    : line_(&line), now_(std::move(now)) {}

ProgressBar::~ProgressBar() { finish(); }

ProgressCallback ProgressBar::callback() {
  if (!line_) return {};
  return [this](const ProgressEvent& e) { update(e); };
}

void ProgressBar::update(const ProgressEvent& e) {
  if (!line_) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto now = now_();
  const bool new_stage = e.stage != stage_;
  if (new_stage) {
    stage_ = e.stage;
    first_step_ = e.step;
    first_time_ = now;
  }
  const bool stage_end = e.total > 0 && e.step >= e.total;
  if (drawn_ && !new_stage && !stage_end && now - last_draw_ < kMinInterval) return;
  last_draw_ = now;

  double rate = 0;
  const double seconds = std::chrono::duration<double>(now - first_time_).count();
  if (e.step - first_step_ >= kMinStepsForRate && seconds > 0) rate = (e.step - first_step_) / seconds;
  line_->show(progress_line(e, rate, line_->width()));
  drawn_ = true;
}

void ProgressBar::finish() {
  if (!line_) return;
  const std::lock_guard<std::mutex> lock(mutex_);
  if (!drawn_) return;
  line_->clear();
  drawn_ = false;
}

}  // namespace facemix::cli
