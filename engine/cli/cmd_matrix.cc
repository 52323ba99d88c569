// faultline matrix FILE: runs a chaos matrix (docs/matrix.md). Each cell is a child
// `faultline run` of this same binary (matrix/matrix_run.h says why); --list prints the cells
// instead, for fanning them out as CI jobs. Exit 0 only when every cell met its expect, 1 when
// one did not, 2 for an invalid matrix or usage, 130 when interrupted (after its runs
// stopped).
#include <unistd.h>

#include <signal.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <cxxopts.hpp>

#include "cli/commands.h"
#include "cli/outputs.h"
#include "cli/push_flags.h"
#include "cli/spec_names.h"
#include "common/error.h"
#include "common/file_io.h"
#include "matrix/matrix.h"
#include "matrix/matrix_run.h"
#include "report/html_report.h"
#include "report/markdown.h"

namespace faultline::cli {

namespace {

// SIGINT/SIGTERM: the matrix stops its runs (each undoes its faults) and still writes its
// artifact and JUnit XML, then exits 130.
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

std::string self_exe() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw EnvironmentError("cannot read /proc/self/exe to run the cells");
  return std::string(buf, static_cast<size_t>(n));
}

// The matrix as Markdown for CI pages: verdict, one row per cell.
std::string matrix_markdown(const matrix::MatrixResult& r,
                            const std::vector<std::pair<std::string, std::string>>& files) {
  std::string md = "### faultline matrix " + r.name + ": " +
                   markdown::status_mark(r.interrupted        ? "interrupted"
                                         : r.exit_code() == 0 ? "passed"
                                                              : "failed") +
                   "\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : r.cells) {
    char rate[32];
    std::snprintf(rate, sizeof rate, "%d/%zu", c.passes, c.runs.size());
    rows.push_back({markdown::status_mark(c.met ? "passed" : "failed"), c.cell.id,
                    matrix::to_string(c.cell.expect), rate, c.flaky ? "yes" : "no",
                    c.runs.empty() ? "" : c.runs.front().artifact});
  }
  md += markdown::table({"met", "cell", "expect", "passed runs", "flaky", "artifact"}, rows) + "\n";
  md += "#### Files\n\n";
  for (const auto& [what, path] : files) md += "- " + what + ": `" + path + "`\n";
  return md + "\n";
}

int run_matrix_command(int argc, char** argv) {
  cxxopts::Options options(
      "faultline matrix",
      "Run a chaos matrix: every cell (scenario x env x --set values x rate x seed, minus\n"
      "exclude, plus include) as a `faultline run` of its own, and check each against its\n"
      "expect (pass, or fail for negative controls). Prints a summary table and writes a matrix\n"
      "artifact (ARTIFACTS/matrix-<name>-<UTC>/matrix.json) linking every run's artifact.\n"
      "Exit 0 when every cell met its expect, 1 when one did not, 2 invalid matrix or usage,\n"
      "130 interrupted (runs under way are stopped and undo their faults).\n"
      "Format, cell IDs and seeds: docs/matrix.md.");
  options.positional_help("FILE|NAME   (NAME: specs/matrix/NAME.yaml)").show_positional_help();
  options.add_options()("jobs", "cells run at once (each starts its services on free ports)",
                        cxxopts::value<int>()->default_value("1"), "N")(
      "repeat", "runs per cell: gives a pass rate; a cell that passed and failed is flaky",
      cxxopts::value<int>()->default_value("1"), "K")(
      "list", "print the cells (id, scenario, env, sets, seed, expect, run argv); run nothing")(
      "format", "text, or json: with --list the cells, else the matrix artifact on stdout",
      cxxopts::value<std::string>()->default_value("text"),
      "FORMAT")("cell", "run only this cell (repeatable); IDs as --list prints them",
                cxxopts::value<std::vector<std::string>>(),
                "ID")("artifacts", "where the matrix folder and every run's artifacts go",
                      cxxopts::value<std::string>()->default_value("artifacts"), "DIR")(
      "junit", "also write JUnit XML: one testcase per cell", cxxopts::value<std::string>(),
      "FILE")("h,help", "show this help")("file", "matrix file", cxxopts::value<std::string>());
  add_push_flags(options,
                 "; here every cell's run pushes its own results, grouped by cell=<id> too");
  add_output_flags(options, false, false);
  options.parse_positional({"file"});
  cxxopts::ParseResult result;
  try {
    result = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw UsageError(std::string(e.what()) + " (see faultline matrix --help)");
  }
  if (result.count("help")) {
    std::printf("%s\n", options.help().c_str());
    return 0;
  }
  if (!result.count("file")) {
    throw UsageError("matrix needs a matrix file: faultline matrix specs/matrix/nightly.yaml");
  }
  const int jobs = result["jobs"].as<int>();
  const int repeat = result["repeat"].as<int>();
  if (jobs < 1 || jobs > 64) throw UsageError("--jobs wants 1 to 64");
  if (repeat < 1 || repeat > 100) throw UsageError("--repeat wants 1 to 100");
  const std::string format = result["format"].as<std::string>();
  if (format != "text" && format != "json") throw UsageError("--format is text or json");
  OutputFlags outputs = read_output_flags(result, false, false);
  outputs.json = format == "json";
  std::FILE* out = human_out(outputs);

  const std::string file = resolve_spec_arg(result["file"].as<std::string>(), kMatricesDir);
  matrix::MatrixLoad load = matrix::load_matrix(file);
  const bool color = isatty(STDERR_FILENO) && !std::getenv("NO_COLOR");
  for (const auto& d : load.diagnostics)
    std::fprintf(stderr, "%s\n", format_diagnostic(d, color).c_str());
  if (!load.ok()) return static_cast<int>(ExitCode::kInvalid);
  const matrix::Matrix& m = *load.matrix;

  std::vector<matrix::Cell> cells = m.cells;
  if (result.count("cell")) {
    cells.clear();
    for (const auto& id : result["cell"].as<std::vector<std::string>>()) {
      bool found = false;
      for (const auto& c : m.cells) {
        if (c.id != id) continue;
        cells.push_back(c);
        found = true;
      }
      if (!found)
        throw UsageError("no cell " + id + " in " + file + " (faultline matrix " + file +
                         " --list shows them)");
    }
  }

  if (result.count("list")) {
    if (format == "json") {
      std::printf("%s\n", matrix::cells_json(m, cells).c_str());
      return 0;
    }
    for (const auto& c : cells) {
      std::string line = c.id + "  expect " + matrix::to_string(c.expect) + "  ";
      for (const auto& a : c.run_argv()) line += " " + a;
      std::printf("%s\n", line.c_str());
    }
    std::printf("%zu cells\n", cells.size());
    return 0;
  }

  matrix::MatrixRunOptions o;
  o.self_exe = self_exe();
  o.artifacts_dir = result["artifacts"].as<std::string>();
  o.jobs = jobs;
  o.repeat = repeat;
  o.stop = &g_stop;
  // Pushing is the runs' job: the flags go to every `faultline run`, which checks them.
  if (push_requested(result)) {
    o.extra_run_args = {"--push", result["push"].as<std::string>()};
    if (result.count("push-label"))
      for (const auto& l : result["push-label"].as<std::vector<std::string>>())
        o.extra_run_args.insert(o.extra_run_args.end(), {"--push-label", l});
    if (result.count("push-allow-remote")) o.extra_run_args.push_back("--push-allow-remote");
    if (result.count("push-timeout"))
      o.extra_run_args.insert(o.extra_run_args.end(),
                              {"--push-timeout", result["push-timeout"].as<std::string>()});
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::fprintf(out, "matrix %s: %zu cells x %d runs, %d at a time\n", m.name.c_str(), cells.size(),
               repeat, jobs);
  std::fflush(out);
  const matrix::MatrixResult r = matrix::run_matrix(m, cells, o, out);
  const std::string report_path = r.dir + "/matrix.json";
  const std::string json = matrix::matrix_report_json(r);
  write_file_atomically(report_path, json);
  std::fprintf(out, "\n%s", matrix::summary_table(r).c_str());
  // The HTML report beside matrix.json, linking each cell's run report (report/html_report.h).
  html::write_html_beside(report_path, stderr);
  std::vector<std::pair<std::string, std::string>> files = {{"matrix artifact", report_path}};
  if (const std::string html = html_beside(report_path); !html.empty()) {
    files.emplace_back("html", html);
    std::fprintf(out, "html: %s\n", html.c_str());
  }
  if (result.count("junit")) {
    const std::string junit = result["junit"].as<std::string>();
    write_output_file(junit, matrix::junit_xml(r));
    files.emplace_back("junit", junit);
    std::fprintf(out, "junit: %s\n", junit.c_str());
  }
  const std::string summary = write_summary(outputs.summary, matrix_markdown(r, files));
  if (!summary.empty()) std::fprintf(out, "summary: %s\n", summary.c_str());
  for (const auto& c : r.cells) {
    if (c.met) continue;
    std::fprintf(out, "look first at: cell %s: %s\n", c.cell.id.c_str(),
                 c.runs.empty() ? "not run" : c.runs.front().log.c_str());
    break;
  }
  std::fprintf(out, "matrix artifact: %s\nresult: %s (exit %d)\n", report_path.c_str(),
               r.interrupted        ? "interrupted"
               : r.exit_code() == 0 ? "every cell met its expect"
                                    : "some cells did not",
               r.exit_code());
  std::fflush(out);
  if (outputs.json) std::printf("%s", json.c_str());
  return r.exit_code();
}

const CommandRegistration kMatrix({"matrix", "run a chaos matrix of scenarios, envs and settings",
                                   40, run_matrix_command});

}  // namespace
}  // namespace faultline::cli
