// facemix command-line entry point: global options, subcommand dispatch, and
// the single place where exceptions become exit codes.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <c10/util/Exception.h>

#include "commands.h"
#include "facemix/process_memory.h"
#include "facemix/errors.h"
#include "facemix/progress.h"
#include "facemix/version.h"
#include "status_line_sink.h"
#include "threading.h"

namespace {

void on_signal(int sig) {
  facemix::request_interrupt();
  // A second Ctrl-C kills at once (default action) for a user who really wants out.
  std::signal(sig, SIG_DFL);
}

void setup_logging(const facemix::cli::GlobalOptions& g) {
  std::shared_ptr<spdlog::logger> logger;
  if (g.progress_bar()) {
    // A progress bar may be on stderr's last line: each log line erases it
    // first and draws it again after, so the two never share a line.
    auto sink = std::make_shared<facemix::cli::StatusLineSink>(
        std::make_shared<spdlog::sinks::stderr_color_sink_mt>(), facemix::cli::StatusLine::for_stderr());
    logger = std::make_shared<spdlog::logger>("facemix", sink);
  } else {
    logger = spdlog::stderr_color_mt("facemix");
  }
  logger->set_pattern("facemix: %^%l%$: %v");
  spdlog::set_default_logger(logger);
  if (g.quiet)
    spdlog::set_level(spdlog::level::err);
  else if (g.verbosity >= 2)
    spdlog::set_level(spdlog::level::trace);
  else if (g.verbosity == 1)
    spdlog::set_level(spdlog::level::debug);
  else
    spdlog::set_level(spdlog::level::info);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace facemix;
  using namespace facemix::cli;
  reuse_freed_memory();

  CLI::App app{
      "facemix: blend the faces in photos into one new face.\n\n"
      "usage: facemix IMAGE IMAGE [IMAGE...] -o OUT [options]\n"
      "       facemix COMMAND [options]   (facemix COMMAND --help for details)\n",
      "facemix"};
  app.footer(
      "Examples:\n"
      "  facemix a.jpg b.jpg -o blend.png\n"
      "  facemix align photo.jpg -o aligned.png --size 512\n"
      "  facemix generate --model ffhq.safetensors --seeds 0-3 --out-dir faces/\n"
      "  facemix info ffhq.safetensors\n"
      "\nExit codes: 0 ok, 1 failure, 2 usage, 3 no usable face, 4 input/output error,\n"
      "5 model error, 130 interrupted.");
  app.get_formatter()->column_width(34);
  app.option_defaults()->always_capture_default();
  // Global options may also follow the command: `facemix align x.jpg -o y.png -y`.
  app.fallthrough();

  GlobalOptions g;
  bool show_version = false, yes = false, never = false;
  const char* general = "General";
  app.add_flag("--version", show_version, "Print the version (with -v: library versions) and exit")
      ->group(general);
  app.add_flag("-v,--verbose", g.verbosity, "More log output on stderr (-vv for trace)")->group(general);
  app.add_flag("-q,--quiet", g.quiet, "Only errors on stderr; no progress bar")->group(general);
  app.add_flag("-y,--yes", yes, "Overwrite existing outputs")->group(general);
  app.add_flag("-n,--no-overwrite", never,
               "Never overwrite: skip outputs that already exist (exit 0)")
      ->group(general);
  app.add_option("--threads", g.threads, "Worker threads for Torch and OpenCV (0 = every core this process may use)")
      ->check(CLI::Range(0, 1024))
      ->group(general);
  app.set_help_flag("-h,--help", "Print this help and exit")->group(general);

  std::map<std::string, Runner> runners;
  Runner blend;
  for (const auto& cmd : registered_commands()) {
    if (cmd.name.empty())
      blend = cmd.registrar(app, g);
    else
      runners[cmd.name] = cmd.registrar(app, g);
  }
  app.require_subcommand(0, 1);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);  // help goes to stdout, exit 0
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "facemix: error: " << e.what() << "\n"
              << "Run 'facemix --help' for usage.\n";
    return kExitUsage;
  }
  if (yes && never) {
    std::cerr << "facemix: error: -y and -n contradict each other\n";
    return kExitUsage;
  }
  g.overwrite = yes ? Overwrite::kYes : never ? Overwrite::kNever : Overwrite::kRefuse;

  if (show_version) {
    apply_thread_settings(g.threads);
    std::cout << version_line() << "\n";
    if (g.verbosity > 0) std::cout << library_versions() << thread_settings_report();
    if (g.verbosity > 1) print_openmp_environment();  // stderr, from the OpenMP runtime itself
    return kExitOk;
  }

  setup_logging(g);
  apply_thread_settings(g.threads);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  try {
    for (auto& [name, run] : runners)
      if (app.got_subcommand(name)) return run();
    if (blend) return blend();
    std::cerr << app.help();
    return kExitUsage;
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    return e.exit_code();
  } catch (const c10::Error& e) {
    spdlog::error("torch: {}", e.what_without_backtrace());
    return kExitFailure;
  } catch (const std::bad_alloc&) {
    spdlog::error("out of memory");
    return kExitFailure;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
}
