// The CLI's command registry. Each command lives in its own cmd_*.cpp, adds
// its options to the CLI11 app, and returns a runner that main() calls after
// parsing. Runners throw facemix::Error; main() maps it to the exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "facemix/output.h"

namespace facemix::cli {

// Options shared by every command; set by main() before a runner is called.
struct GlobalOptions {
  int verbosity = 0;  // -v count
  bool quiet = false; // -q: errors only, no progress bar
  int threads = 0;    // --threads; 0 = every core this process may use (threading.h)
  Overwrite overwrite = Overwrite::kRefuse;  // -y / -n
  bool progress_bar() const;  // true on a TTY stderr unless -q
};

using Runner = std::function<int()>;

// A registrar adds its subcommand to `app` (or, for the main blend form, its
// options on `app` itself) and returns the runner to call when it was selected.
using Registrar = std::function<Runner(CLI::App& app, const GlobalOptions& g)>;

struct CommandEntry {
  std::string name;  // subcommand name; "" for the main (blend) form
  int order;         // position in --help
  Registrar registrar;
};

// Every cmd_*.cpp registers itself with one static CommandRegistration, so
// adding a command touches no shared file:
//   static const CommandRegistration reg{"align", 10, add_align_command};
struct CommandRegistration {
  CommandRegistration(std::string name, int order, Registrar registrar);
};

// All registered commands, sorted by order.
std::vector<CommandEntry> registered_commands();

}  // namespace facemix::cli
