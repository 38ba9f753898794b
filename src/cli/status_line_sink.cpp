#include "status_line_sink.h"

#include <utility>

namespace facemix::cli {

StatusLineSink::StatusLineSink(std::shared_ptr<spdlog::sinks::sink> inner, StatusLine& line)
    : inner_(std::move(inner)), line_(line) {}

void StatusLineSink::log(const spdlog::details::log_msg& msg) {
  // The level filter is the logger's and the inner sink's; this sink keeps none.
  line_.write_above([&] { inner_->log(msg); });
}

void StatusLineSink::flush() { inner_->flush(); }

void StatusLineSink::set_pattern(const std::string& pattern) { inner_->set_pattern(pattern); }

void StatusLineSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  inner_->set_formatter(std::move(formatter));
}

}  // namespace facemix::cli
