#include <unistd.h>

#include <algorithm>

#include "commands.h"

namespace facemix::cli {

bool GlobalOptions::progress_bar() const { return !quiet && ::isatty(STDERR_FILENO) == 1; }

namespace {
std::vector<CommandEntry>& registry() {
  static std::vector<CommandEntry> entries;  // function-local: safe during static init
  return entries;
}
}  // namespace

CommandRegistration::CommandRegistration(std::string name, int order, Registrar registrar) {
  registry().push_back({std::move(name), order, std::move(registrar)});
}

std::vector<CommandEntry> registered_commands() {
  auto entries = registry();
  std::stable_sort(entries.begin(), entries.end(),
                   [](const CommandEntry& a, const CommandEntry& b) { return a.order < b.order; });
  return entries;
}

}  // namespace facemix::cli
