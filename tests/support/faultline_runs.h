// Running the faultline binary from tests: start it with the demo binary and a private
// artifacts directory, wait for it, and read back its artifact (checked against the report
// schema). Shared by the end-to-end tests of run, replay and compare.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "proc/child_process.h"
#include "temp_dir.h"

namespace faultline::testing {

// Path of the faultline CLI this build produced (FAULTLINE_CLI).
std::string faultline_binary();

std::string read_file(const std::string& path);

struct Run {
  int exit_code = -1;
  std::string output;    // stdout and stderr
  std::string artifact;  // the artifact the run printed ("artifact: <path>"), or empty
  rapidjson::Document report;
  std::optional<TempDir> dir;  // run_faultline's own directory, removed with the Run
  std::string status() const;  // report status, or "(no artifact)"
};

// Starts `faultline <args> --artifacts <dir>/artifacts` in the source tree with
// FAULTLINE_DEMO_BIN set, output to <dir>/faultline.out. Add "--progress lines" yourself
// for run/replay when you want progress lines.
ChildProcess start_faultline(const std::vector<std::string>& args, const std::string& dir);

// Waits for the process (stopping it and failing the test after `limit`) and reads the
// artifact it printed, which must satisfy schemas/report.schema.json.
Run finish_faultline(ChildProcess& p, const std::string& dir, std::chrono::seconds limit);

// start + finish in a fresh TempDir named after `name`, which the Run owns.
Run run_faultline(const std::vector<std::string>& args, const std::string& name,
                  std::chrono::seconds limit = std::chrono::seconds(120));

// Like run_faultline, in an existing directory (so several runs share artifacts/).
Run run_faultline_in(const std::vector<std::string>& args, const std::string& dir,
                     std::chrono::seconds limit = std::chrono::seconds(120));

}  // namespace faultline::testing
