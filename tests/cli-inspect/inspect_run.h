// Runs the built `faultline inspect` for this directory's tests: exit code, stdout and stderr
// apart (--stats and errors go to stderr, --format json to stdout).
#pragma once

#include <sys/wait.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/file_io.h"
#include "proc/child_process.h"
#include "temp_dir.h"

namespace faultline::testing {

struct Inspected {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// `faultline inspect <args>`; with `stdin_file`, that file is its standard input.
inline Inspected run_inspect(const std::vector<std::string>& args,
                             const std::string& stdin_file = "") {
  TempDir dir("inspect");
  ChildSpec spec;
  if (stdin_file.empty()) {
    spec.argv = {FAULTLINE_CLI, "inspect"};
  } else {
    spec.argv = {"/bin/sh", "-c", "f=$1; shift; exec \"$0\" inspect \"$@\" < \"$f\"", FAULTLINE_CLI,
                 stdin_file};
  }
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.stdout_path = dir / "out";
  spec.stderr_path = dir / "err";
  ChildProcess p = ChildProcess::spawn(spec);
  const auto status = p.wait_for_exit(std::chrono::seconds(60));
  Inspected r;
  if (!status) {
    p.stop();
    return r;  // exit_code -1: the caller's CHECK on it fails
  }
  r.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  r.out = read_whole_file(dir / "out").value_or("");
  r.err = read_whole_file(dir / "err").value_or("");
  return r;
}

}  // namespace faultline::testing
