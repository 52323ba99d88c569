// Subcommands of the faultline CLI. main.cc only dispatches; each command parses its own
// flags (cxxopts) and calls into the library. A command returns the process exit code
// (common/error.h ExitCode) and lets faultline::Error escape for main to report.
#pragma once

namespace faultline::cli {

struct Command {
  const char* name;
  const char* summary;                // one line for `faultline --help`
  int (*run)(int argc, char** argv);  // argv[0] is the command name
};

}  // namespace faultline::cli
