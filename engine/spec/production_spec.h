// ProductionSpec: the machine-readable tables of a production spec (docs/production-spec.md,
// "How to read the machine-readable tables") and the coverage check `faultline coverage` runs
// on them: every failure mode names scenarios that exist and validate and a runbook, every
// alert it names is a rule of the alert file, every scenario of specs/ maps to a failure mode
// or a baseline (directly, or through the scenario it `extends`), and every alert is fired by
// a scenario of the nightly matrix (`alert(NAME) fires` in a cell expected to pass).
//
// Parsing and checking are pure: the caller reads the files and passes what it found
// (CoverageFacts), so tests need no file system.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

struct FailureModeRow {
  std::string mode;                    // the slug (a [slug](link) cell gives the slug)
  std::vector<std::string> scenarios;  // paths from the repository root
  std::vector<std::string> alerts;     // alert names ("-" or empty: none)
  int line = 0;                        // 1-based line of the row in the document
};

struct AlertRow {
  std::string alert;
  int line = 0;
};

struct BaselineRow {
  std::string scenario;
  int line = 0;
};

struct ProductionSpec {
  std::vector<FailureModeRow> failure_modes;
  std::vector<AlertRow> alerts;
  std::vector<BaselineRow> baselines;
  // Format problems ("line 12: the Failure modes table has columns ..., expected ..."). A spec
  // with any is not checked further.
  std::vector<std::string> errors;
};

// Reads the first Markdown table after each heading named exactly "Failure modes", "Alerts"
// and "Baselines" (any level). Failure modes and Alerts are required; Baselines is optional.
ProductionSpec parse_production_spec(std::string_view markdown);

// The `alert:` names of a Prometheus rule file (YAML: groups[].rules[].alert). Throws
// UsageError naming the problem when the text is not such a file.
std::set<std::string> alert_rule_names(std::string_view rules_yaml);

// The NAMEs of `alert(NAME) fires [within D]` in assertion statements, found with the DSL
// parser (dsl/parser.h), anywhere in a statement's condition (`and`/`or` included). `never
// fires` and `resolved` prove no firing and do not count; a statement that does not parse adds
// nothing (the scenario then does not validate, which coverage reports on its own).
std::set<std::string> alerts_fired(const std::vector<std::string>& statements);

// The top-level `extends:` of a scenario file's text, as written; "" when there is none or the
// text is not a YAML map (the loader reports that).
std::string scenario_extends(std::string_view scenario_yaml);

// What the caller found on disk.
struct CoverageFacts {
  struct Scenario {
    bool exists = false;
    bool valid = false;
    std::string problem;                 // why not valid (first diagnostic)
    std::set<std::string> alerts_fired;  // alerts_fired() of its assertions
    // The scenario it `extends` (a path like the keys of `scenarios`), "" when none: a
    // variant (specs/alerts/x.yaml extends specs/x.yaml) maps to its base's failure mode.
    std::string base;
    // A cell of the matrix that proves alerts (specs/matrix/nightly.yaml) runs it and expects
    // it to pass: only such scenarios count as firing an alert.
    bool in_matrix = false;
  };
  std::map<std::string, Scenario> scenarios;  // every path the spec names and every spec file
  std::vector<std::string> spec_files;  // scenario files that must map (specs/*.yaml, specs/alerts)
  std::set<std::string> alert_rules;    // alert_rule_names of the rule file
  std::set<std::string> runbooks;       // modes with docs/runbooks/<mode>.md
};

struct CoverageOptions {
  // An alert fired by no scenario of the matrix is a note instead of a gap (for a production
  // spec whose alerts are not yet proven by chaos).
  bool allow_unfired_alerts = false;
};

struct CoverageResult {
  std::vector<std::string> missing;  // each makes the check fail
  std::vector<std::string> notes;    // listed, not failing
  bool ok() const { return missing.empty(); }
};

CoverageResult check_coverage(const ProductionSpec& spec, const CoverageFacts& facts,
                              const CoverageOptions& options = {});

}  // namespace faultline
