#include "cli/outputs.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/file_io.h"
#include "common/term_color.h"
#include "report/html_report.h"
#include "report/junit.h"
#include "report/markdown.h"

namespace faultline::cli {

void add_output_flags(cxxopts::Options& options, bool junit, bool format) {
  if (junit)
    options.add_options("output")("junit", "also write JUnit XML for CI to FILE",
                                  cxxopts::value<std::string>(), "FILE");
  options.add_options("output")(
      "summary",
      "also write a Markdown summary to FILE (and append it to $GITHUB_STEP_SUMMARY when set)",
      cxxopts::value<std::string>(), "FILE")("no-color", "no colour (as does NO_COLOR=1)");
  if (format)
    options.add_options("output")(
        "format", "text, or json: the results as JSON on stdout, messages on stderr",
        cxxopts::value<std::string>()->default_value("text"), "FORMAT");
}

OutputFlags read_output_flags(const cxxopts::ParseResult& result, bool junit, bool format) {
  OutputFlags f;
  if (junit && result.count("junit")) f.junit = result["junit"].as<std::string>();
  if (result.count("summary")) f.summary = result["summary"].as<std::string>();
  f.no_color = result.count("no-color") > 0;
  if (f.no_color) set_color_mode(ColorMode::kNever);
  if (format) {
    const std::string fmt = result["format"].as<std::string>();
    if (fmt != "text" && fmt != "json")
      throw UsageError("--format " + fmt + ": expected text or json");
    f.json = fmt == "json";
  }
  return f;
}

void write_output_file(const std::string& path, const std::string& text) {
  const auto parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) throw EnvironmentError("cannot create " + parent.string() + ": " + ec.message());
  write_file_atomically(path, text);
}

std::string write_summary(const std::string& path, const std::string& markdown) {
  std::string written;
  if (!path.empty()) {
    write_output_file(path, markdown);
    written = path;
  }
  // GitHub Actions shows this file on the run's page; each step appends its own part.
  const char* step = std::getenv("GITHUB_STEP_SUMMARY");
  if (step && *step) {
    std::ofstream out(step, std::ios::app | std::ios::binary);
    out << markdown << "\n";
    if (!out) throw EnvironmentError(std::string("cannot append to GITHUB_STEP_SUMMARY ") + step);
    written += (written.empty() ? "" : ", ") + std::string(step);
  }
  return written;
}

void finish_run_outcome(const RunOutcome& outcome, const OutputFlags& flags) {
  if (!outcome.artifact_path.empty()) html::write_html_beside(outcome.artifact_path, stderr);
  if (!outcome.report) return;
  const auto json = read_whole_file(outcome.artifact_path);
  finish_run_outputs(*outcome.report, outcome.artifact_path, flags, json.value_or(""));
}

std::string html_beside(const std::string& artifact) {
  if (artifact.size() < 5 || !artifact.ends_with(".json")) return "";
  const std::string html = artifact.substr(0, artifact.size() - 5) + ".html";
  std::error_code ec;
  return std::filesystem::is_regular_file(html, ec) ? html : "";
}

void finish_run_outputs(const RunReport& report, const std::string& artifact,
                        const OutputFlags& flags, const std::string& json) {
  std::FILE* out = human_out(flags);
  std::vector<std::pair<std::string, std::string>> files;
  if (!artifact.empty()) files.emplace_back("artifact", artifact);
  if (const std::string html = html_beside(artifact); !html.empty()) {
    files.emplace_back("html", html);
    std::fprintf(out, "html: %s\n", html.c_str());
  }
  if (!flags.junit.empty()) {
    write_output_file(flags.junit, junit::to_xml("faultline " + report.scenario,
                                                 run_junit_suite(report, artifact)));
    files.emplace_back("junit", flags.junit);
    std::fprintf(out, "junit: %s\n", flags.junit.c_str());
  }
  const std::string summary = write_summary(flags.summary, run_summary_markdown(report, files));
  if (!summary.empty()) std::fprintf(out, "summary: %s\n", summary.c_str());
  std::fflush(out);
  if (flags.json) {
    std::fputs(json.c_str(), stdout);
    if (!json.empty() && json.back() != '\n') std::fputc('\n', stdout);
    std::fflush(stdout);
  }
}

}  // namespace faultline::cli
