// faultline coverage: checks a production spec's mapping (engine/spec/production_spec.h)
// against the repository: scenarios exist and validate, alerts are rules of the alert file,
// every scenario of specs/ and specs/alerts/ maps to a failure mode (a variant through the
// scenario it extends), every mode has a runbook, and every alert is fired by a scenario the
// nightly matrix runs (`alert(NAME) fires` in a cell expected to pass). Lists what is missing;
// exit 0 when nothing is, 1 when something is, 2 on bad usage or an unreadable file.
// Paths in the document are relative to the current directory (run it from the repository
// root, as `make test` does).
#include <algorithm>
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/plan_flags.h"
#include "common/error.h"
#include "common/file_io.h"
#include "matrix/matrix.h"
#include "spec/loader.h"
#include "spec/production_spec.h"

namespace faultline::cli {
namespace {

namespace fs = std::filesystem;

std::string read_or_usage(const std::string& path, const char* what) {
  auto text = read_whole_file(path);
  if (!text) throw UsageError("cannot read " + std::string(what) + " '" + path + "'");
  return *text;
}

// A path as the facts key it: lexically normal, relative to the current directory.
std::string normal(const fs::path& p) {
  return p.lexically_normal().generic_string();
}

// The file a scenario's top-level `extends:` names, relative to the current directory; "" when
// it extends nothing (or is not a YAML map: the loader reports that).
std::string extends_path(const std::string& path) {
  const auto text = read_whole_file(path);
  const std::string base = text ? scenario_extends(*text) : "";
  return base.empty() ? "" : normal(fs::path(path).parent_path() / base);
}

CoverageFacts::Scenario scenario_facts(const std::string& path) {
  CoverageFacts::Scenario s;
  std::error_code ec;
  s.exists = fs::is_regular_file(path, ec);
  if (!s.exists) return s;
  const ScenarioLoad load = load_scenario(path);
  s.valid = load.ok();
  if (!s.valid) {
    for (const auto& d : load.diagnostics)
      if (d.is_error()) {
        s.problem = "line " + std::to_string(d.loc.line) + ": " + d.message;
        break;
      }
    return s;
  }
  std::vector<std::string> statements;
  for (const auto& a : load.scenario->assertions) statements.push_back(a.text);
  s.alerts_fired = alerts_fired(statements);
  s.base = extends_path(path);
  return s;
}

int coverage_command(int argc, char** argv) {
  cxxopts::Options opts(
      "faultline coverage",
      "Check a production spec's failure modes, alerts and scenarios against the repository:\n"
      "every failure mode names scenarios that exist and validate and has a runbook, every\n"
      "alert is a rule of the alert file and is named by a failure mode, every scenario of\n"
      "the specs directories maps to a failure mode or a baseline (a variant through the\n"
      "scenario it extends), every alert is fired by a scenario of the matrix (an\n"
      "`alert(NAME) fires` assertion in a cell expected to pass). Lists what is missing; exit 0\n"
      "when nothing is, 1 when something is. Format of the tables: docs/production-spec.md.\n");
  opts.custom_help("[DOC]");
  opts.add_options()("h,help", "show this help")(
      "rules", "Prometheus alert rule file",
      cxxopts::value<std::string>()->default_value("deploy/prometheus/alerts.yml"))(
      "specs", "directories whose *.yaml scenarios must each map to a failure mode",
      cxxopts::value<std::vector<std::string>>()->default_value("specs,specs/alerts"))(
      "matrix", "the matrix whose cells must fire every alert",
      cxxopts::value<std::string>()->default_value("specs/matrix/nightly.yaml"))(
      "runbooks", "directory of the runbooks (<mode>.md)",
      cxxopts::value<std::string>()->default_value("docs/runbooks"))(
      "allow-unfired-alerts",
      "list an alert no scenario of the matrix fires as a note instead of a gap")(
      "doc", "", cxxopts::value<std::string>());
  opts.parse_positional({"doc"});
  auto result = parse_or_usage(opts, argc, argv);
  if (result.count("help")) {
    std::cout << opts.help();
    return 0;
  }
  const std::string doc =
      result.count("doc") ? result["doc"].as<std::string>() : "docs/production-spec.md";
  const ProductionSpec spec = parse_production_spec(read_or_usage(doc, "the production spec"));

  CoverageFacts facts;
  const std::string rules = result["rules"].as<std::string>();
  facts.alert_rules = alert_rule_names(read_or_usage(rules, "the alert rules"));
  const auto specs_dirs = result["specs"].as<std::vector<std::string>>();
  std::string specs_list;
  std::error_code ec;
  for (const auto& dir : specs_dirs) {
    if (!fs::is_directory(dir, ec)) throw UsageError("'" + dir + "' is not a directory (--specs)");
    specs_list += (specs_list.empty() ? "" : ", ") + dir;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() &&
          (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
        facts.spec_files.push_back(normal(fs::path(dir) / e.path().filename()));
  }
  std::sort(facts.spec_files.begin(), facts.spec_files.end());
  for (const auto& f : facts.spec_files) facts.scenarios[f] = scenario_facts(f);
  auto add = [&](const std::string& path) {
    if (!facts.scenarios.count(path)) facts.scenarios[path] = scenario_facts(path);
  };
  for (const auto& m : spec.failure_modes)
    for (const auto& s : m.scenarios) add(s);
  for (const auto& b : spec.baselines) add(b.scenario);

  // The cells that prove alerts: those the matrix expects to pass (a negative control that
  // must fail proves nothing about its alert(NAME) fires).
  const std::string matrix_path = result["matrix"].as<std::string>();
  const matrix::MatrixLoad matrix = matrix::load_matrix(matrix_path);
  if (!matrix.ok()) {
    std::string why;
    for (const auto& d : matrix.diagnostics)
      if (d.is_error()) {
        why = "line " + std::to_string(d.loc.line) + ": " + d.message;
        break;
      }
    throw UsageError("the matrix '" + matrix_path + "' does not load (--matrix): " + why);
  }
  size_t matrix_scenarios = 0;
  for (const auto& cell : matrix.matrix->cells) {
    if (cell.expect != matrix::Expect::kPass) continue;
    const std::string path = normal(cell.spec_path);
    add(path);
    if (!facts.scenarios[path].in_matrix) ++matrix_scenarios;
    facts.scenarios[path].in_matrix = true;
  }
  const std::string runbooks = result["runbooks"].as<std::string>();
  for (const auto& m : spec.failure_modes)
    if (fs::is_regular_file(fs::path(runbooks) / (m.mode + ".md"), ec))
      facts.runbooks.insert(m.mode);

  CoverageOptions options;
  options.allow_unfired_alerts = result.count("allow-unfired-alerts") > 0;
  const CoverageResult r = check_coverage(spec, facts, options);

  std::printf(
      "coverage of %s: %zu failure modes, %zu alerts (%zu rules in %s), %zu scenarios in "
      "%s, %zu baselines, %zu scenarios expected to pass in %s\n",
      doc.c_str(), spec.failure_modes.size(), spec.alerts.size(), facts.alert_rules.size(),
      rules.c_str(), facts.spec_files.size(), specs_list.c_str(), spec.baselines.size(),
      matrix_scenarios, matrix_path.c_str());
  if (!r.missing.empty()) {
    std::printf("\nmissing:\n");
    for (const auto& m : r.missing) std::printf("  %s\n", m.c_str());
  }
  if (!r.notes.empty()) {
    std::printf("\nnotes:\n");
    for (const auto& n : r.notes) std::printf("  %s\n", n.c_str());
  }
  if (r.ok()) {
    std::printf("\nresult: complete (exit 0)\n");
    return 0;
  }
  std::printf("\nresult: incomplete, %zu missing (exit 1)\n", r.missing.size());
  return static_cast<int>(ExitCode::kFailed);
}

const CommandRegistration kCoverage({"coverage",
                                     "check a production spec's failure modes, alerts and "
                                     "scenarios against the repository",
                                     75, &coverage_command});

}  // namespace
}  // namespace faultline::cli
