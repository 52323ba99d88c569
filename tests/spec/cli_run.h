// Running the faultline CLI from the spec tests: from the repository root, with arguments
// that hold no shell metacharacters, output and exit code captured.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace faultline::testing {

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

inline CliRun faultline_cli(const std::string& args) {
  const std::string cmd = "cd '" + std::string(FAULTLINE_SOURCE_DIR) + "' && '" +
                          std::string(FAULTLINE_CLI) + "' " + args + " 2>&1";
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace faultline::testing
