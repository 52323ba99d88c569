// Subcommands of the faultline CLI. main.cc only dispatches. Each command lives in its own
// cmd_<name>.cc (compiled straight into the executable, so static registration is kept),
// parses its own flags (cxxopts) and calls into the library. A command returns the process
// exit code (common/error.h ExitCode) and lets faultline::Error escape for main to report.
#pragma once

#include <vector>

namespace faultline::cli {

struct Command {
  const char* name;
  const char* summary;                // one line for `faultline --help`
  int order;                          // position in --help (pipeline order)
  int (*run)(int argc, char** argv);  // argv[0] is the command name
};

// Registers a command at static-initialization time; main lists them sorted by `order`.
struct CommandRegistration {
  explicit CommandRegistration(const Command& command);
};

const std::vector<Command>& registered_commands();

}  // namespace faultline::cli
