// The production spec's machine-readable tables (spec/production_spec.h): parsing them from
// Markdown, reading alert rule names, finding `alert(NAME) fires` in assertions (DSL parser),
// reading `extends`, and the coverage check
// over facts given by the test (no file system).
#include <doctest/doctest.h>

#include <algorithm>

#include "common/error.h"
#include "spec/production_spec.h"

using namespace faultline;

namespace {

const char* kDoc = R"(# Spec

Some text | with a pipe outside any table.

## 5) Failure model

### Failure modes

| Mode | Symptom | Detection | Mitigation | Fix | Scenario | Alert |
| --- | --- | --- | --- | --- | --- | --- |
| [slow](runbooks/slow.md) | p95 up | `rate(x[1m]) \| y` | lever | flag | specs/a.yaml, specs/b.yaml | AlertA, AlertB |
| down | errors | `up == 0` | switch | restart | specs/c.yaml | - |

### Alerts

| Alert | Meaning | Likely causes | First checks |
| --- | --- | --- | --- |
| `AlertA` | m | c | f |
| AlertB | m | c | f |

### Baselines

| Scenario | Purpose |
| --- | --- |
| specs/smoke.yaml | control |
)";

CoverageFacts good_facts() {
  CoverageFacts f;
  for (const char* s : {"specs/a.yaml", "specs/b.yaml", "specs/c.yaml", "specs/smoke.yaml"}) {
    f.scenarios[s].exists = true;
    f.scenarios[s].valid = true;
    f.spec_files.push_back(s);
  }
  f.scenarios["specs/a.yaml"].alerts_fired = {"AlertA"};
  f.scenarios["specs/b.yaml"].alerts_fired = {"AlertB"};
  f.scenarios["specs/a.yaml"].in_matrix = true;
  f.scenarios["specs/b.yaml"].in_matrix = true;
  f.alert_rules = {"AlertA", "AlertB"};
  f.runbooks = {"slow", "down"};
  return f;
}

bool has(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(part) != std::string::npos; });
}

}  // namespace

TEST_CASE("production spec: the three tables are read with slugs, lists and escaped pipes") {
  const ProductionSpec spec = parse_production_spec(kDoc);
  REQUIRE(spec.errors.empty());
  REQUIRE(spec.failure_modes.size() == 2);
  CHECK(spec.failure_modes[0].mode == "slow");
  CHECK(spec.failure_modes[0].scenarios ==
        std::vector<std::string>{"specs/a.yaml", "specs/b.yaml"});
  CHECK(spec.failure_modes[0].alerts == std::vector<std::string>{"AlertA", "AlertB"});
  CHECK(spec.failure_modes[0].line == 11);
  CHECK(spec.failure_modes[1].mode == "down");
  CHECK(spec.failure_modes[1].alerts.empty());  // "-" is none
  REQUIRE(spec.alerts.size() == 2);
  CHECK(spec.alerts[0].alert == "AlertA");  // backticks dropped
  REQUIRE(spec.baselines.size() == 1);
  CHECK(spec.baselines[0].scenario == "specs/smoke.yaml");
}

TEST_CASE("production spec: wrong columns, a missing table and a short row are format errors") {
  auto errors_of = [](const std::string& doc) { return parse_production_spec(doc).errors; };
  std::string doc = kDoc;
  doc.replace(doc.find("| Mode | Symptom"), 16, "| Mode | Symptoms");
  CHECK(has(errors_of(doc), "the Failure modes table has columns Mode | Symptoms"));
  CHECK(has(errors_of("# nothing\n"), "no heading \"Failure modes\""));
  CHECK(has(errors_of("# nothing\n"), "no heading \"Alerts\""));
  std::string short_row = kDoc;
  short_row.replace(short_row.find("| down | errors |"), 17, "| down |");
  short_row.replace(short_row.find("| `up == 0` | switch | restart "), 31, "");
  CHECK(has(errors_of(short_row), "a Failure modes row has"));
  // A format error fails the check by itself.
  const CoverageResult r = check_coverage(parse_production_spec("# nothing\n"), good_facts());
  CHECK_FALSE(r.ok());
  CHECK(has(r.missing, "format: no heading"));
}

TEST_CASE("production spec: alert rule names from a Prometheus rule file") {
  CHECK(alert_rule_names("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                         "      - record: r\n        expr: up\n  - name: h\n    rules:\n"
                         "      - alert: B\n        expr: up\n") ==
        std::set<std::string>{"A", "B"});
  CHECK_THROWS_AS(alert_rule_names("rules: []\n"), UsageError);
  CHECK_THROWS_AS(alert_rule_names("groups: [\n"), UsageError);
}

TEST_CASE("production spec: only alert(NAME) fires counts as firing, found by the DSL parser") {
  CHECK(alerts_fired({"during(trigger): alert(OrdersLatencyHigh) fires within 60s",
                      "during(trigger): p95 > 1s and alert(Api5xxHigh) fires",
                      "after(cooldown): alert(RedisDown) resolved",
                      "during(warmup): alert(InstanceDown) never fires", "overall: my_alert(X) > 1",
                      "during(warmup): p95 < 300ms", "during(trigger): alert(Broken fires"}) ==
        std::set<std::string>{"Api5xxHigh", "OrdersLatencyHigh"});
}

TEST_CASE("production spec: a scenario's extends is read from its text") {
  CHECK(scenario_extends("version: 1\nextends: ../latency-tail.yaml\nname: x\n") ==
        "../latency-tail.yaml");
  CHECK(scenario_extends("version: 1\nname: x\n").empty());
  CHECK(scenario_extends("[1, 2]\n").empty());
  CHECK(scenario_extends("a: [\n").empty());
}

TEST_CASE("production spec: coverage is complete when everything maps") {
  const CoverageResult r = check_coverage(parse_production_spec(kDoc), good_facts());
  INFO(r.missing.size());
  CHECK(r.ok());
  CHECK(r.notes.size() == 1);  // mode "down" names no alert
  CHECK(has(r.notes, "failure mode down names no alert"));
}

TEST_CASE("production spec: coverage lists every gap") {
  const ProductionSpec spec = parse_production_spec(kDoc);
  CoverageFacts f = good_facts();
  f.scenarios["specs/b.yaml"].exists = false;
  f.scenarios["specs/c.yaml"].valid = false;
  f.scenarios["specs/c.yaml"].problem = "line 3: bad";
  f.spec_files.push_back("specs/orphan.yaml");
  f.scenarios["specs/orphan.yaml"] = {true, true, "", {}, "", false};
  f.alert_rules.insert("AlertC");  // a rule the spec does not know
  f.alert_rules.erase("AlertB");   // an alert the spec names that is no rule
  f.runbooks.erase("down");
  const CoverageResult r = check_coverage(spec, f);
  CHECK_FALSE(r.ok());
  CHECK(has(r.missing, "line 11: failure mode slow: scenario specs/b.yaml does not exist"));
  CHECK(has(r.missing, "failure mode down: scenario specs/c.yaml does not validate (line 3: bad)"));
  CHECK(has(r.missing, "scenario specs/orphan.yaml maps to no failure mode"));
  CHECK(has(r.missing, "failure mode slow: alert AlertB is not in the alert rules"));
  CHECK(has(r.missing, "alert AlertB is not in the alert rules"));
  CHECK(has(r.missing, "alert AlertC of the alert rules is not in the Alerts table"));
  CHECK(has(r.missing, "alert AlertC is named by no failure mode"));
  CHECK(has(r.missing, "failure mode down has no runbook docs/runbooks/down.md"));
  CHECK(has(r.missing,
            "1 alert(s) fired by no scenario of the matrix (no `alert(NAME) fires` "
            "assertion in a cell expected to pass): AlertC"));
  CHECK(r.missing.size() == 9);
}

TEST_CASE(
    "production spec: an alert no scenario of the matrix fires is a gap, or a note when allowed") {
  const ProductionSpec spec = parse_production_spec(kDoc);
  CoverageFacts f = good_facts();
  f.scenarios["specs/b.yaml"].alerts_fired.clear();
  const CoverageResult gap = check_coverage(spec, f);
  CHECK_FALSE(gap.ok());
  CHECK(has(gap.missing, "1 alert(s) fired by no scenario of the matrix"));
  CHECK(has(gap.missing, "assertion in a cell expected to pass): AlertB"));
  CoverageOptions lenient;
  lenient.allow_unfired_alerts = true;
  const CoverageResult note = check_coverage(spec, f, lenient);
  CHECK(note.ok());
  CHECK(has(note.notes, "fired by no scenario of the matrix"));
  CHECK(check_coverage(spec, good_facts()).ok());
}

TEST_CASE("production spec: a scenario outside the matrix fires nothing") {
  const ProductionSpec spec = parse_production_spec(kDoc);
  CoverageFacts f = good_facts();
  f.scenarios["specs/b.yaml"].in_matrix = false;
  const CoverageResult r = check_coverage(spec, f);
  CHECK_FALSE(r.ok());
  CHECK(has(r.missing, "fired by no scenario of the matrix"));
  f.scenarios["specs/b.yaml"].in_matrix = true;
  f.scenarios["specs/b.yaml"].valid = false;  // in the matrix but broken: proves nothing
  f.scenarios["specs/b.yaml"].problem = "line 3: bad";
  CHECK(has(check_coverage(spec, f).missing, "fired by no scenario of the matrix"));
}

TEST_CASE("production spec: a variant maps to its base's failure mode through extends") {
  const ProductionSpec spec = parse_production_spec(kDoc);
  CoverageFacts f = good_facts();
  f.spec_files.push_back("specs/alerts/a-alerts.yaml");
  f.scenarios["specs/alerts/a-alerts.yaml"] = {true, true, "", {}, "specs/a.yaml", false};
  f.spec_files.push_back("specs/alerts/chain.yaml");
  f.scenarios["specs/alerts/chain.yaml"] = {true, true, "", {}, "specs/alerts/a-alerts.yaml",
                                            false};
  CHECK(check_coverage(spec, f).ok());
  f.spec_files.push_back("specs/alerts/orphan.yaml");
  f.scenarios["specs/alerts/orphan.yaml"] = {true, true, "", {}, "specs/nowhere.yaml", false};
  const CoverageResult r = check_coverage(spec, f);
  CHECK(has(r.missing, "scenario specs/alerts/orphan.yaml maps to no failure mode"));
  CHECK(r.missing.size() == 1);
}
