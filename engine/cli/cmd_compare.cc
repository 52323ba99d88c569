// faultline compare: the regression gate that proves a fix works. Finds a baseline and a
// candidate run (by scenario and tag, or as two artifact paths), refuses runs of different
// plans, judges every compare gate on the point values and on a bootstrap interval of the
// change from the raw samples, prints a table per phase and writes
// artifacts/compare-<scenario>-<UTC>.json. Exit 0 only if every gate passes.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/outputs.h"
#include "cli/plan_flags.h"
#include "cli/spec_names.h"
#include "common/error.h"
#include "common/file_io.h"
#include "common/term_color.h"
#include "compare/comparison.h"
#include "compare/comparison_json.h"
#include "compare/comparison_text.h"
#include "recorded/bundle.h"
#include "recorded/recorded_run.h"
#include "report/html_report.h"
#include "report/junit.h"
#include "report/markdown.h"

namespace faultline::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDescription =
    "Compare a baseline run with a candidate run of the same plan and judge the compare gates:\n"
    "the regression gate that proves a fix works (or that a change did not make things worse).\n"
    "\n"
    "Runs are recorded artifacts. Give a scenario name to take the newest run of each tag from\n"
    "the artifacts directory, or two artifact paths (baseline first; a bundle directory stands\n"
    "for a run killed before it wrote its artifact). Runs of different plans (another seed,\n"
    "rate, duration, spec edit) are refused, naming what differs. A run cut short is compared\n"
    "on what it recorded, with a note.\n"
    "\n"
    "Gates come from the spec's compare: list (recorded in the plan) and from --gate, e.g.\n"
    "  during(trigger): p95(route=orders) improves by >= 30%\n"
    "  during(warmup): p95 regresses by <= 10%\n"
    "improvement = (baseline - candidate) / baseline for metrics that are better lower\n"
    "(latencies, error rates, counts, server metrics); (candidate - baseline) / baseline for rps.\n"
    "\n"
    "Significance: for client metrics each gate also gets a bootstrap confidence interval of the\n"
    "improvement from the raw samples (each run's matching requests resampled with replacement,\n"
    "percentile method, seeded: the same runs give the same interval).\n"
    "  'improves by >= X'  passes when the improvement is >= X and the interval lies above 0\n"
    "                      (the improvement is real, not noise);\n"
    "  'regresses by <= X' passes when the regression is <= X and so is the interval's worst end\n"
    "                      (we are confident it did not regress more).\n"
    "Server-side gates (metric.p95(...)) have no raw samples: judged on the point values only.\n"
    "A gate below the traffic guard (observe.guard.min_requests) in either run is inconclusive,\n"
    "which fails the comparison. See docs/compare.md.\n";

constexpr const char* kEpilog =
    "\nExit codes: 0 every gate passed, 1 a gate failed or was inconclusive, 2 usage error\n"
    "(runs not found, an artifact or bundle missing or damaged, plans differ, invalid --gate,\n"
    "no gate at all).\n"
    "\n"
    "Example: prove a fix (same spec and seed before and after):\n"
    "  faultline run specs/latency-tail.yaml --tag before                       # the incident\n"
    "  faultline run specs/latency-tail.yaml --env envs/local-fixed.yaml --tag after   # the fix\n"
    "  faultline compare latency-tail --baseline-tag before --candidate-tag after\n"
    "  faultline compare latency-tail --gate \"during(warmup): p95 regresses by <= 10%\"\n"
    "  faultline compare artifacts/incident-latency-tail-A.json "
    "artifacts/incident-latency-tail-B.json\n";

// The raw values of an option or positional (cxxopts splits vector values at commas, and
// gates contain commas).
std::vector<std::string> raw_values(const cxxopts::ParseResult& result, const std::string& key) {
  std::vector<std::string> out;
  for (const auto& kv : result.arguments())
    if (kv.key() == key) out.push_back(kv.value());
  return out;
}

double parse_confidence(const std::string& text) {
  std::string t = text;
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t.pop_back();
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size())
    throw UsageError("--confidence " + text + ": expected a percentage such as 95% or 99%");
  if (percent || v > 1) v /= 100;
  if (!(v >= 0.5 && v < 1))
    throw UsageError("--confidence " + text + ": expected between 50% and 99.9%");
  return v;
}

// The newest run of `scenario` tagged `tag`, or a usage error that says how to record one.
std::string find_run(const std::string& dir, const std::string& scenario, const std::string& tag,
                     const char* role) {
  const auto found = find_artifacts(dir, scenario, tag);
  if (!found.empty()) return found.front();
  std::string spec = spec_path_of(scenario);
  if (!fs::exists(spec)) spec = "<spec of " + scenario + ">";
  throw UsageError("no " + std::string(role) + " run of '" + scenario + "' tagged '" + tag +
                   "' in " + dir + "/" + (fs::is_directory(dir) ? "" : " (no such directory)") +
                   "\n  hint: record one first: faultline run " + spec + " --tag " + tag +
                   (dir == "artifacts" ? "" : " --artifacts " + dir) +
                   ", or give two artifact paths");
}

const char* verdict_word(judge::VerdictStatus s) {
  return s == judge::VerdictStatus::kPass   ? "pass"
         : s == judge::VerdictStatus::kFail ? "fail"
                                            : "inconclusive";
}

std::string percent(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", *v * 100);
  return buf;
}

// "412ms -> 230ms, +44.2% [+30.1%, +55.0%]": both values, the change and its interval.
std::string change_text(const compare::MetricComparison& m) {
  std::string t = m.baseline.text + " -> " + m.candidate.text + ", " + percent(m.improvement);
  if (m.interval) t += " [" + percent(m.interval->low) + ", " + percent(m.interval->high) + "]";
  return t;
}

// One JUnit case per gate: failed and inconclusive gates fail.
std::string comparison_junit(const compare::Comparison& c, const std::string& path) {
  junit::TestSuite suite;
  suite.name = "compare " + c.scenario + " " + c.baseline.tag + " vs " + c.candidate.tag;
  suite.timestamp = c.created_at;
  for (const auto& g : c.gates) {
    junit::TestCase t;
    t.classname = "faultline.compare." + c.scenario;
    t.name = g.statement;
    t.properties = {{"verdict", verdict_word(g.status)},
                    {"origin", g.origin},
                    {"baseline", g.change.baseline.text},
                    {"candidate", g.change.candidate.text},
                    {"improvement", percent(g.change.improvement)},
                    {"significance", compare::to_string(g.change.significance)},
                    {"baseline_artifact", c.baseline.artifact},
                    {"candidate_artifact", c.candidate.artifact},
                    {"comparison", path}};
    if (g.status != judge::VerdictStatus::kPass) {
      t.outcome = junit::TestCase::Outcome::kFailure;
      t.type = verdict_word(g.status);
      t.message = g.message;
      t.body = g.expected + "\n" + change_text(g.change) + "\n";
    }
    suite.cases.push_back(std::move(t));
  }
  return junit::to_xml("faultline compare " + c.scenario, suite);
}

std::string comparison_markdown(const compare::Comparison& c,
                                const std::vector<std::pair<std::string, std::string>>& files) {
  std::string md = "### faultline compare " + c.scenario + ": " +
                   markdown::status_mark(c.passed() ? "passed" : "failed") + "\n\n";
  md += "Baseline `" + c.baseline.tag + "` (" + c.baseline.artifact + ") vs candidate `" +
        c.candidate.tag + "` (" + c.candidate.artifact + ").\n\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : c.gates)
    rows.push_back({markdown::status_mark(verdict_word(g.status)), "`" + g.statement + "`",
                    g.change.baseline.text, g.change.candidate.text, percent(g.change.improvement),
                    g.change.interval ? "[" + percent(g.change.interval->low) + ", " +
                                            percent(g.change.interval->high) + "]"
                                      : g.change.interval_note});
  md += "#### Gates\n\n" +
        markdown::table({"verdict", "gate", "baseline", "candidate", "improvement", "interval"},
                        rows) +
        "\n";
  std::vector<std::vector<std::string>> phase_rows;
  for (const auto& p : c.phases)
    for (const auto& m : p.metrics)
      phase_rows.push_back(
          {p.name, m.metric, m.baseline.text, m.candidate.text, percent(m.improvement)});
  if (!phase_rows.empty())
    md += "#### Phases\n\n" +
          markdown::table({"phase", "metric", "baseline", "candidate", "improvement"}, phase_rows) +
          "\n";
  md += "#### Files\n\n";
  for (const auto& [what, path] : files) md += "- " + what + ": `" + path + "`\n";
  return md + "\n";
}

int compare_command(int argc, char** argv) {
  cxxopts::Options opts("faultline compare", kDescription);
  opts.custom_help(
      "SCENARIO [--baseline-tag T] [--candidate-tag T] | BASELINE.json CANDIDATE.json");
  opts.add_options()("baseline-tag",
                     "with a scenario: the baseline is its newest run with this tag",
                     cxxopts::value<std::string>()->default_value("before"), "TAG")(
      "candidate-tag", "with a scenario: the candidate is its newest run with this tag",
      cxxopts::value<std::string>()->default_value("after"),
      "TAG")("artifacts", "where runs are found and the comparison is written",
             cxxopts::value<std::string>()->default_value("artifacts"),
             "DIR")("gate", "a compare gate to judge besides the spec's (repeatable)",
                    cxxopts::value<std::vector<std::string>>(), "GATE")(
      "no-spec-gates", "judge only the --gate gates, not the spec's compare: list")(
      "allow-different-plans", "compare runs whose plans differ (the differences are listed)")(
      "confidence", "confidence level of the intervals",
      cxxopts::value<std::string>()->default_value("95%"),
      "LEVEL")("resamples", "bootstrap resamples per interval (100 to 1000000)",
               cxxopts::value<int>()->default_value("2000"),
               "N")("seed", "seed of the bootstrap (default: derived from both plan hashes)",
                    cxxopts::value<uint64_t>(), "N")("h,help", "show this help")(
      "inputs", "", cxxopts::value<std::vector<std::string>>());
  add_output_flags(opts);
  opts.parse_positional({"inputs"});
  auto result = parse_or_usage(opts, argc, argv);
  if (result.count("help")) {
    std::cout << opts.help() << kEpilog;
    return 0;
  }
  const OutputFlags outputs = read_output_flags(result);
  std::FILE* out = human_out(outputs);
  const std::vector<std::string> inputs = raw_values(result, "inputs");
  const std::string dir = result["artifacts"].as<std::string>();
  std::string baseline_path, candidate_path;
  if (inputs.size() == 1 && !(inputs[0].size() > 5 && inputs[0].ends_with(".json"))) {
    baseline_path = find_run(dir, inputs[0], result["baseline-tag"].as<std::string>(), "baseline");
    candidate_path =
        find_run(dir, inputs[0], result["candidate-tag"].as<std::string>(), "candidate");
  } else if (inputs.size() == 2) {
    baseline_path = inputs[0];
    candidate_path = inputs[1];
  } else {
    throw UsageError(
        "compare needs a scenario name (runs found by --baseline-tag and --candidate-tag) or two "
        "artifact paths, baseline first; see faultline compare --help");
  }

  compare::CompareOptions options;
  options.gates = raw_values(result, "gate");
  options.use_spec_gates = result.count("no-spec-gates") == 0;
  options.allow_different_plans = result.count("allow-different-plans") > 0;
  options.confidence = parse_confidence(result["confidence"].as<std::string>());
  options.resamples = result["resamples"].as<int>();
  if (options.resamples < 100 || options.resamples > 1'000'000)
    throw UsageError("--resamples " + std::to_string(options.resamples) +
                     ": expected 100 to 1000000");
  if (result.count("seed")) options.seed = result["seed"].as<uint64_t>();

  const RecordedRun baseline = load_recorded_run(baseline_path);
  const RecordedRun candidate = load_recorded_run(candidate_path);
  const auto problems = compare::check_gate_texts(options.gates, baseline.plan);
  if (!problems.empty()) {
    for (const auto& d : problems)
      std::fprintf(stderr, "%s\n", format_diagnostic(d, false).c_str());
    throw UsageError("invalid --gate (" + std::to_string(problems.size()) + " problem" +
                     (problems.size() == 1 ? "" : "s") + ")");
  }

  compare::Comparison c = compare::compare_runs(baseline, candidate, options);
  const auto now = std::chrono::system_clock::now();
  c.created_at = utc_stamp(now, false);
  c.command = "faultline";
  for (int i = 0; i < argc; ++i) c.command += std::string(" ") + argv[i];
  compare::print_comparison(out, c);

  const std::string path = new_artifact_path(dir, "compare", c.scenario, now);
  const std::string json = compare::comparison_to_json(c);
  write_file_atomically(path, json);

  size_t passed = 0;
  for (const auto& g : c.gates) passed += g.status == judge::VerdictStatus::kPass;
  const bool color = use_color(out);
  if (c.passed()) {
    std::fprintf(out, "\nresult: %s, %zu of %zu gates (exit 0)\n",
                 paint("passed", sgr::kGreen, color).c_str(), passed, c.gates.size());
  } else {
    std::fprintf(out, "\nresult: %s, %zu of %zu gates did not pass (exit 1)\n",
                 paint("failed", sgr::kRed, color).c_str(), c.gates.size() - passed,
                 c.gates.size());
    for (const auto& g : c.gates) {
      if (g.status == judge::VerdictStatus::kPass) continue;
      std::fprintf(out, "look first at: %s %s, %s\n",
                   g.status == judge::VerdictStatus::kFail ? "FAIL" : "INCONCLUSIVE",
                   g.statement.c_str(), change_text(g.change).c_str());
      break;
    }
  }
  std::fprintf(out, "comparison: %s\n", path.c_str());
  // The HTML report beside the comparison (report/html_report.h); it never changes the exit code.
  html::write_html_beside(path, stderr);
  std::vector<std::pair<std::string, std::string>> files = {{"comparison", path}};
  if (const std::string html = html_beside(path); !html.empty()) {
    files.emplace_back("html", html);
    std::fprintf(out, "html: %s\n", html.c_str());
  }
  if (!outputs.junit.empty()) {
    write_output_file(outputs.junit, comparison_junit(c, path));
    files.emplace_back("junit", outputs.junit);
    std::fprintf(out, "junit: %s\n", outputs.junit.c_str());
  }
  const std::string summary = write_summary(outputs.summary, comparison_markdown(c, files));
  if (!summary.empty()) std::fprintf(out, "summary: %s\n", summary.c_str());
  std::fflush(out);
  if (outputs.json) std::printf("%s", json.c_str());
  return c.passed() ? 0 : 1;
}

const CommandRegistration kCompare({"compare",
                                    "judge a candidate run against a baseline (prove a fix)", 40,
                                    &compare_command});

}  // namespace
}  // namespace faultline::cli
