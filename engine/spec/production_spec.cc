#include "spec/production_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <sstream>

#include "common/error.h"
#include "dsl/ast.h"
#include "dsl/parser.h"

namespace faultline {

namespace {

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return std::string(s.substr(a, b - a));
}

// "| a | b |" -> {"a", "b"}. A "\|" stays in its cell as "|".
std::vector<std::string> table_cells(std::string_view line) {
  std::string s = trim(line);
  if (!s.empty() && s.front() == '|') s.erase(0, 1);
  if (!s.empty() && s.back() == '|' && (s.size() < 2 || s[s.size() - 2] != '\\')) s.pop_back();
  std::vector<std::string> out;
  std::string cell;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (s[i] == '|') {
      out.push_back(trim(cell));
      cell.clear();
    } else {
      cell += s[i];
    }
  }
  out.push_back(trim(cell));
  return out;
}

bool is_separator_row(const std::vector<std::string>& cells) {
  for (const auto& c : cells)
    if (c.empty() || c.find_first_not_of("-: ") != std::string::npos) return false;
  return true;
}

// "[slug](runbooks/slug.md)" -> "slug"; "`x`" -> "x".
std::string plain(std::string cell) {
  if (cell.size() >= 2 && cell.front() == '`' && cell.back() == '`')
    cell = cell.substr(1, cell.size() - 2);
  if (!cell.empty() && cell.front() == '[') {
    const size_t close = cell.find("](");
    if (close != std::string::npos) cell = cell.substr(1, close - 1);
  }
  return trim(cell);
}

std::vector<std::string> list_cell(const std::string& cell) {
  std::vector<std::string> out;
  std::stringstream in(cell);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = plain(trim(item));
    if (!item.empty() && item != "-" && item != "—" && item != "none") out.push_back(item);
  }
  return out;
}

struct Table {
  bool found = false;
  int heading_line = 0;
  std::vector<std::string> header;
  std::vector<std::pair<int, std::vector<std::string>>> rows;  // line, cells
};

// The first table after the heading `name` (any level).
Table find_table(const std::vector<std::string>& lines, const std::string& name) {
  Table t;
  size_t i = 0;
  for (; i < lines.size(); ++i) {
    const std::string l = trim(lines[i]);
    const size_t hashes = l.find_first_not_of('#');
    if (hashes == 0 || hashes == std::string::npos || hashes > 6) continue;
    if (trim(std::string_view(l).substr(hashes)) == name) break;
  }
  if (i == lines.size()) return t;
  t.found = true;
  t.heading_line = static_cast<int>(i) + 1;
  for (++i; i < lines.size(); ++i) {
    const std::string l = trim(lines[i]);
    if (!l.empty() && l[0] == '#') return t;  // next heading, no table
    if (!l.empty() && l[0] == '|') break;
  }
  if (i == lines.size()) return t;
  t.header = table_cells(lines[i]);
  for (++i; i < lines.size(); ++i) {
    const std::string l = trim(lines[i]);
    if (l.empty() || l[0] != '|') break;
    auto cells = table_cells(l);
    if (is_separator_row(cells)) continue;
    t.rows.emplace_back(static_cast<int>(i) + 1, std::move(cells));
  }
  return t;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " | ") + s;
  return out;
}

// Checks the table's columns; false (and an error) when they are not `expected`.
bool columns_ok(const Table& t, const std::string& name, const std::vector<std::string>& expected,
                bool required, std::vector<std::string>* errors) {
  if (!t.found) {
    if (required) errors->push_back("no heading \"" + name + "\" (the " + name + " table)");
    return false;
  }
  if (t.header.empty()) {
    errors->push_back("line " + std::to_string(t.heading_line) + ": no table under \"" + name +
                      "\"");
    return false;
  }
  if (t.header != expected) {
    errors->push_back("line " + std::to_string(t.heading_line) + ": the " + name +
                      " table has columns " + joined(t.header) + ", expected " + joined(expected));
    return false;
  }
  return true;
}

}  // namespace

ProductionSpec parse_production_spec(std::string_view markdown) {
  std::vector<std::string> lines;
  {
    std::string line;
    for (char c : markdown) {
      if (c == '\n') {
        lines.push_back(line);
        line.clear();
      } else {
        line += c;
      }
    }
    if (!line.empty()) lines.push_back(line);
  }
  ProductionSpec spec;
  const Table modes = find_table(lines, "Failure modes");
  if (columns_ok(modes, "Failure modes",
                 {"Mode", "Symptom", "Detection", "Mitigation", "Fix", "Scenario", "Alert"}, true,
                 &spec.errors)) {
    for (const auto& [line, cells] : modes.rows) {
      if (cells.size() != 7) {
        spec.errors.push_back("line " + std::to_string(line) + ": a Failure modes row has " +
                              std::to_string(cells.size()) + " cells, expected 7");
        continue;
      }
      spec.failure_modes.push_back(
          {plain(cells[0]), list_cell(cells[5]), list_cell(cells[6]), line});
    }
  }
  const Table alerts = find_table(lines, "Alerts");
  if (columns_ok(alerts, "Alerts", {"Alert", "Meaning", "Likely causes", "First checks"}, true,
                 &spec.errors)) {
    for (const auto& [line, cells] : alerts.rows) spec.alerts.push_back({plain(cells[0]), line});
  }
  const Table baselines = find_table(lines, "Baselines");
  if (columns_ok(baselines, "Baselines", {"Scenario", "Purpose"}, false, &spec.errors)) {
    for (const auto& [line, cells] : baselines.rows)
      spec.baselines.push_back({plain(cells[0]), line});
  }
  return spec;
}

std::set<std::string> alert_rule_names(std::string_view rules_yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(rules_yaml));
  } catch (const YAML::Exception& e) {
    throw UsageError(std::string("the alert rule file is not YAML: ") + e.what());
  }
  if (!root.IsMap() || !root["groups"] || !root["groups"].IsSequence())
    throw UsageError("the alert rule file has no groups: list (a Prometheus rule file)");
  std::set<std::string> names;
  for (const auto& group : root["groups"]) {
    if (!group.IsMap() || !group["rules"] || !group["rules"].IsSequence()) continue;
    for (const auto& rule : group["rules"])
      if (rule.IsMap() && rule["alert"] && rule["alert"].IsScalar())
        names.insert(rule["alert"].as<std::string>());
  }
  return names;
}

namespace {

void collect_fired(const dsl::Condition& c, std::set<std::string>* out) {
  if (c.kind == dsl::Condition::Kind::kAlert && c.alert_state == dsl::AlertState::kFires)
    out->insert(c.alert);
  for (const auto& o : c.operands) collect_fired(o, out);
}

}  // namespace

std::string scenario_extends(std::string_view scenario_yaml) {
  try {
    const YAML::Node root = YAML::Load(std::string(scenario_yaml));
    if (!root.IsMap() || !root["extends"] || !root["extends"].IsScalar()) return "";
    return root["extends"].as<std::string>();
  } catch (const YAML::Exception&) {
    return "";
  }
}

std::set<std::string> alerts_fired(const std::vector<std::string>& statements) {
  std::set<std::string> out;
  for (const auto& s : statements) {
    const dsl::ParseResult parsed = dsl::parse_statement(s, dsl::StatementKind::kAssertion);
    if (parsed.ok() && parsed.statement->condition)
      collect_fired(*parsed.statement->condition, &out);
  }
  return out;
}

CoverageResult check_coverage(const ProductionSpec& spec, const CoverageFacts& facts,
                              const CoverageOptions& options) {
  CoverageResult r;
  for (const auto& e : spec.errors) r.missing.push_back("format: " + e);
  if (!spec.errors.empty()) return r;
  if (spec.failure_modes.empty()) r.missing.push_back("format: the Failure modes table is empty");

  auto at = [](int line) { return "line " + std::to_string(line) + ": "; };
  std::set<std::string> mapped;
  std::set<std::string> named_alerts;
  for (const auto& m : spec.failure_modes) {
    if (m.scenarios.empty())
      r.missing.push_back(at(m.line) + "failure mode " + m.mode + " names no scenario");
    for (const auto& s : m.scenarios) {
      mapped.insert(s);
      auto it = facts.scenarios.find(s);
      if (it == facts.scenarios.end() || !it->second.exists)
        r.missing.push_back(at(m.line) + "failure mode " + m.mode + ": scenario " + s +
                            " does not exist");
      else if (!it->second.valid)
        r.missing.push_back(at(m.line) + "failure mode " + m.mode + ": scenario " + s +
                            " does not validate (" + it->second.problem + ")");
    }
    if (!facts.runbooks.count(m.mode))
      r.missing.push_back(at(m.line) + "failure mode " + m.mode + " has no runbook docs/runbooks/" +
                          m.mode + ".md");
    if (m.alerts.empty())
      r.notes.push_back(at(m.line) + "failure mode " + m.mode + " names no alert");
    for (const auto& a : m.alerts) {
      named_alerts.insert(a);
      if (!facts.alert_rules.count(a))
        r.missing.push_back(at(m.line) + "failure mode " + m.mode + ": alert " + a +
                            " is not in the alert rules");
    }
  }
  for (const auto& b : spec.baselines) {
    mapped.insert(b.scenario);
    auto it = facts.scenarios.find(b.scenario);
    if (it == facts.scenarios.end() || !it->second.exists)
      r.missing.push_back(at(b.line) + "baseline scenario " + b.scenario + " does not exist");
    else if (!it->second.valid)
      r.missing.push_back(at(b.line) + "baseline scenario " + b.scenario + " does not validate (" +
                          it->second.problem + ")");
  }
  std::set<std::string> table_alerts;
  for (const auto& a : spec.alerts) {
    table_alerts.insert(a.alert);
    if (!facts.alert_rules.count(a.alert))
      r.missing.push_back(at(a.line) + "alert " + a.alert + " is not in the alert rules");
  }
  for (const auto& rule : facts.alert_rules) {
    if (!table_alerts.count(rule))
      r.missing.push_back("alert " + rule + " of the alert rules is not in the Alerts table");
    if (!named_alerts.count(rule))
      r.missing.push_back("alert " + rule + " is named by no failure mode");
  }
  // A variant maps through the scenario it extends (bounded: a cycle is the loader's error).
  auto maps = [&](std::string path) {
    for (size_t hops = 0; hops <= facts.scenarios.size() && !path.empty(); ++hops) {
      if (mapped.count(path)) return true;
      auto it = facts.scenarios.find(path);
      path = it == facts.scenarios.end() ? "" : it->second.base;
    }
    return false;
  };
  for (const auto& f : facts.spec_files)
    if (!maps(f))
      r.missing.push_back("scenario " + f + " maps to no failure mode (nor a baseline)");

  std::set<std::string> fired;
  for (const auto& [path, s] : facts.scenarios)
    if (s.in_matrix && s.valid) fired.insert(s.alerts_fired.begin(), s.alerts_fired.end());
  std::vector<std::string> unfired;
  for (const auto& rule : facts.alert_rules)
    if (!fired.count(rule)) unfired.push_back(rule);
  if (!unfired.empty()) {
    std::string list;
    for (const auto& a : unfired) list += (list.empty() ? "" : ", ") + a;
    const std::string what =
        std::to_string(unfired.size()) +
        " alert(s) fired by no scenario of the matrix (no `alert(NAME) fires` assertion in a "
        "cell expected to pass): " +
        list;
    (options.allow_unfired_alerts ? r.notes : r.missing).push_back(what);
  }
  return r;
}

}  // namespace faultline
