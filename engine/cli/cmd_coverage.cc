// faultline coverage: checks a production spec's mapping (engine/spec/production_spec.h)
// against the repository: scenarios exist and validate, alerts are rules of the alert file,
// every scenario of specs/ maps to a failure mode, every mode has a runbook. Lists what is
// missing; exit 0 when nothing is, 1 when something is, 2 on bad usage or an unreadable file.
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
  s.alerts_fired = alerts_asserted(statements);
  return s;
}

int coverage_command(int argc, char** argv) {
  cxxopts::Options opts(
      "faultline coverage",
      "Check a production spec's failure modes, alerts and scenarios against the repository:\n"
      "every failure mode names scenarios that exist and validate and has a runbook, every\n"
      "alert is a rule of the alert file and is named by a failure mode, every scenario of\n"
      "the specs directory maps to a failure mode or a baseline. Lists what is missing; exit 0\n"
      "when nothing is, 1 when something is. Format of the tables: docs/production-spec.md.\n");
  opts.custom_help("[DOC]");
  opts.add_options()("h,help", "show this help")(
      "rules", "Prometheus alert rule file",
      cxxopts::value<std::string>()->default_value("deploy/prometheus/alerts.yml"))(
      "specs", "directory whose *.yaml scenarios must each map to a failure mode",
      cxxopts::value<std::string>()->default_value("specs"))(
      "runbooks", "directory of the runbooks (<mode>.md)",
      cxxopts::value<std::string>()->default_value("docs/runbooks"))(
      "require-alert-assertions",
      "fail when an alert is fired by no scenario (an alert(NAME) assertion); without it "
      "that gap is a note")("doc", "", cxxopts::value<std::string>());
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
  const std::string specs_dir = result["specs"].as<std::string>();
  std::error_code ec;
  if (!fs::is_directory(specs_dir, ec))
    throw UsageError("'" + specs_dir + "' is not a directory (--specs)");
  for (const auto& e : fs::directory_iterator(specs_dir))
    if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
      facts.spec_files.push_back((fs::path(specs_dir) / e.path().filename()).generic_string());
  std::sort(facts.spec_files.begin(), facts.spec_files.end());
  for (const auto& f : facts.spec_files) facts.scenarios[f] = scenario_facts(f);
  auto add = [&](const std::string& path) {
    if (!facts.scenarios.count(path)) facts.scenarios[path] = scenario_facts(path);
  };
  for (const auto& m : spec.failure_modes)
    for (const auto& s : m.scenarios) add(s);
  for (const auto& b : spec.baselines) add(b.scenario);
  const std::string runbooks = result["runbooks"].as<std::string>();
  for (const auto& m : spec.failure_modes)
    if (fs::is_regular_file(fs::path(runbooks) / (m.mode + ".md"), ec))
      facts.runbooks.insert(m.mode);

  CoverageOptions options;
  options.require_alert_assertions = result.count("require-alert-assertions") > 0;
  const CoverageResult r = check_coverage(spec, facts, options);

  std::printf(
      "coverage of %s: %zu failure modes, %zu alerts (%zu rules in %s), %zu scenarios in "
      "%s, %zu baselines\n",
      doc.c_str(), spec.failure_modes.size(), spec.alerts.size(), facts.alert_rules.size(),
      rules.c_str(), facts.spec_files.size(), specs_dir.c_str(), spec.baselines.size());
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
