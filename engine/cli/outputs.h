// The outputs every result-printing command shares: --junit FILE (JUnit XML for CI),
// --summary FILE (Markdown; also appended to $GITHUB_STEP_SUMMARY when that is set),
// --format text|json (json: the results on stdout, everything else on stderr) and
// --no-color. Defined once so the flags mean the same in run, judge, merge, compare, matrix.
#pragma once

#include <cstdio>
#include <cxxopts.hpp>
#include <string>

#include "report/report.h"
#include "run/runner.h"

namespace faultline::cli {

struct OutputFlags {
  std::string junit;    // "" = none
  std::string summary;  // "" = none (GITHUB_STEP_SUMMARY is still honoured)
  bool json = false;    // --format json
  bool no_color = false;
};

// Adds the flags to `options` ("output" group); `junit` false for commands that add their
// own --junit (matrix), `format` false for those with their own --format.
void add_output_flags(cxxopts::Options& options, bool junit = true, bool format = true);
OutputFlags read_output_flags(const cxxopts::ParseResult& result, bool junit = true,
                              bool format = true);

// Writes `text` to `path` atomically, creating its directory. Throws EnvironmentError.
void write_output_file(const std::string& path, const std::string& text);

// Writes the Markdown summary to `path` (when not empty) and appends it to the file named
// by GITHUB_STEP_SUMMARY (when set). Returns the paths written, for the closing lines.
std::string write_summary(const std::string& path, const std::string& markdown);

// The closing outputs of a command that produced a run report (run, judge, merge), after its
// human summary went to human_out(flags): writes --junit and --summary (with the artifact,
// the HTML report when one exists beside it, and the JUnit file listed), prints their paths
// ("junit: ...", "summary: ...", "html: ..." only when the file exists), and with --format
// json prints `json` (the artifact's JSON) on stdout.
void finish_run_outputs(const RunReport& report, const std::string& artifact,
                        const OutputFlags& flags, const std::string& json);

// What run and replay do once the run is over: write the HTML report beside its artifact
// (report/html_report.h; a failure there is reported and never changes the exit code), then
// finish_run_outputs with the artifact's JSON.
void finish_run_outcome(const RunOutcome& outcome, const OutputFlags& flags);

// The HTML report beside an artifact (incident-x.json -> incident-x.html) when it exists,
// else "". The HTML writer lives elsewhere; this only names what it wrote.
std::string html_beside(const std::string& artifact);

// Where human text goes: stdout, or stderr when stdout carries JSON.
inline std::FILE* human_out(const OutputFlags& f) {
  return f.json ? stderr : stdout;
}

}  // namespace faultline::cli
