// Running the built faultline CLI from the cli tests: in a chosen directory (default the
// source tree), with extra environment variables, stdout and stderr captured apart (so a test
// can check that --format json keeps stdout machine-readable), and the exit code.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "temp_dir.h"

namespace faultline::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Arguments must hold no shell metacharacters other than quotes the caller put there.
inline CliResult run_cli(const std::string& args, const std::string& cwd = FAULTLINE_SOURCE_DIR,
                         const std::map<std::string, std::string>& env = {}) {
  TempDir capture("cli-capture");
  // Bounded: a hung command fails its test instead of hanging the suite.
  std::string cmd = "cd '" + cwd + "' && timeout 180 env";
  for (const auto& [k, v] : env) cmd += " " + k + "='" + v + "'";
  cmd += " '" + std::string(FAULTLINE_CLI) + "' " + args + " >'" + (capture / "out") + "' 2>'" +
         (capture / "err") + "' </dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(capture / "out");
  r.err = slurp(capture / "err");
  return r;
}

}  // namespace faultline::testing
