// An spdlog sink that keeps log lines off the progress bar: each message is
// written by an inner sink (the usual coloured stderr sink) with the status
// line erased first and redrawn after.
//
//   auto inner = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
//   auto sink = std::make_shared<StatusLineSink>(inner, StatusLine::for_stderr());
//   spdlog::set_default_logger(std::make_shared<spdlog::logger>("facemix", sink));
#pragma once

#include <memory>

#include <spdlog/sinks/sink.h>

#include "status_line.h"

namespace facemix::cli {

class StatusLineSink : public spdlog::sinks::sink {
 public:
  // requires: `inner` writes to the stream `line` draws on; `line` outlives
  //           this sink.
  StatusLineSink(std::shared_ptr<spdlog::sinks::sink> inner, StatusLine& line);

  void log(const spdlog::details::log_msg& msg) override;
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
  StatusLine& line_;
};

}  // namespace facemix::cli
