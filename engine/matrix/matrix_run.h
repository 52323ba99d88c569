// Running a matrix: every cell (times --repeat) as a child process `faultline run ...` of the
// same binary, up to `jobs` at a time, and the three outputs of the results: the summary
// table, the matrix artifact (schemas/matrix-report.schema.json) and JUnit XML.
//
// Why child processes rather than run_scenario in-process: a run owns process-wide state (its
// SIGINT/SIGTERM handlers that undo faults, the child subreaper, stdout for progress), so two
// runs in one process would fight over it; a child per run gets its own signals, its own log
// file and its own exit code, and a crash in one cell cannot take the others down.
#pragma once

#include <atomic>
#include <cstdio>
#include <string>
#include <vector>

#include "matrix/matrix.h"

namespace faultline::matrix {

struct MatrixRunOptions {
  std::string self_exe;                     // the faultline binary to run cells with
  std::string artifacts_dir = "artifacts";  // cells go to <dir>/matrix-<name>-<UTC>/<id>/r<k>
  int jobs = 1;
  int repeat = 1;
  std::string junit_path;  // empty: no JUnit XML
  // Appended to every cell's `faultline run` (e.g. --push URL --push-label ...), followed by
  // `--push-label cell=<id>` when it pushes, so each cell's results are a group of their own.
  std::vector<std::string> extra_run_args;
  // Set (e.g. from a SIGINT handler) to stop: runs under way get SIGTERM (so they undo their
  // faults and exit 130), runs not started yet are not started. Null: never.
  const std::atomic<bool>* stop = nullptr;
};

// One run of a cell.
struct CellRun {
  int exit_code = -1;              // of `faultline run`; 128+signal when it was killed; -1: not run
  std::string status = "not-run";  // the run artifact's status; "error" when there is none
  double duration_s = 0;
  std::string artifact;  // the run's artifact (incident-*.json); empty when none
  std::string log;       // the child's stdout and stderr
  std::vector<std::string> failed_assertions;  // "FAIL <text>: <message>"
  std::string error;  // why there is no verdict (exit 2, 3, ...): the log's tail
};

struct CellResult {
  Cell cell;
  std::vector<CellRun> runs;
  int passes = 0;         // runs that exited 0
  bool flaky = false;     // at least one run exited 0 and one exited 1
  bool met = false;       // every run met the cell's expect
  double duration_s = 0;  // all runs
  double pass_rate() const { return runs.empty() ? 0 : double(passes) / double(runs.size()); }
};

struct MatrixResult {
  std::string name;
  std::string file;
  uint64_t seed = 0;
  std::string started_at;  // UTC ISO 8601
  double duration_s = 0;
  int jobs = 1;
  int repeat = 1;
  std::string dir;  // where the cells' artifacts are
  std::vector<CellResult> cells;
  bool interrupted = false;  // options.stop was set: some runs were stopped or never started
  // 0 when every cell met its expect, 130 when interrupted, else 1.
  int exit_code() const;
};

// Runs `cells` (a subset of m.cells, in order); progress lines go to `out`.
MatrixResult run_matrix(const Matrix& m, const std::vector<Cell>& cells,
                        const MatrixRunOptions& options, std::FILE* out);

// Outputs.
std::string summary_table(const MatrixResult& r);
std::string matrix_report_json(const MatrixResult& r);
std::string junit_xml(const MatrixResult& r);
// The cells as `faultline matrix --list --format json` prints them.
std::string cells_json(const Matrix& m, const std::vector<Cell>& cells);

// A run's verdict read from its artifact: status and failed assertions. False when unreadable.
bool read_run_artifact(const std::string& path, CellRun* run);

}  // namespace faultline::matrix
