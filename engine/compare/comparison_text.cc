#include "compare/comparison_text.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/units.h"
#include "judge/value_format.h"

namespace faultline::compare {

namespace {

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::toupper(ch); });
  return s;
}

const char* short_significance(Significance s) {
  switch (s) {
    case Significance::kImprovement:
      return "better";
    case Significance::kRegression:
      return "worse";
    case Significance::kNoChange:
      return "no sig. change";
    case Significance::kNotTested:
      break;
  }
  return "-";
}

struct Row {
  std::string metric, baseline, candidate, change, interval, verdict;
};

Row row_of(const std::string& label, const MetricComparison& m, const std::string& verdict) {
  Row r{label, m.baseline.text, m.candidate.text, "-", "-", verdict};
  if (m.improvement) r.change = judge::format_change(*m.improvement);
  if (m.improvement && *m.improvement == 0) r.change = "0%";
  if (m.interval)
    r.interval =
        judge::format_change(m.interval->low) + " .. " + judge::format_change(m.interval->high);
  else if (m.interval_note.find("server-side") != std::string::npos)
    r.interval = "(server-side)";
  return r;
}

void print_rows(std::FILE* out, const std::string& title, const std::vector<Row>& rows,
                size_t width) {
  std::fprintf(out, "\n%-*s %11s %11s %12s  %-22s %s\n", static_cast<int>(width + 2), title.c_str(),
               "baseline", "candidate", "improvement", "interval", "verdict");
  for (const auto& r : rows)
    std::fprintf(out, "  %-*s %11s %11s %12s  %-22s %s\n", static_cast<int>(width),
                 r.metric.c_str(), r.baseline.c_str(), r.candidate.c_str(), r.change.c_str(),
                 r.interval.c_str(), r.verdict.c_str());
}

std::string tag_of(const RunInfo& r) {
  return r.tag.empty() ? "(untagged)" : r.tag;
}

std::string run_line(const char* role, const RunInfo& r, size_t tag_width) {
  std::string tag = tag_of(r);
  tag.resize(std::max(tag.size(), tag_width), ' ');
  std::string s = std::string(role) + tag + "  " + r.artifact;
  std::string detail = r.environment;
  if (!r.status.empty()) detail += (detail.empty() ? "" : ", ") + std::string("run ") + r.status;
  if (!detail.empty()) s += "  (" + detail + ")";
  return s;
}

}  // namespace

void print_comparison(std::FILE* out, const Comparison& c) {
  std::fprintf(out, "compare %s\n", c.scenario.c_str());
  const size_t tag_width = std::max(tag_of(c.baseline).size(), tag_of(c.candidate).size());
  std::fprintf(out, "  %s\n", run_line("baseline   ", c.baseline, tag_width).c_str());
  std::fprintf(out, "  %s\n", run_line("candidate  ", c.candidate, tag_width).c_str());
  if (c.plan_differences.empty()) {
    std::fprintf(out, "  plan %s in both", c.baseline.plan_hash.substr(0, 12).c_str());
  } else {
    std::fprintf(out, "  plans differ (allowed):");
    for (const auto& d : c.plan_differences) std::fprintf(out, "\n    %s", d.str().c_str());
    std::fprintf(out, "\n ");
  }
  std::fprintf(out, "; %s%% bootstrap intervals, %d resamples, seed %llu\n",
               judge::format_value(c.bootstrap.confidence * 100, dsl::ValueType::kNumber).c_str(),
               c.bootstrap.resamples, static_cast<unsigned long long>(c.bootstrap.seed));
  std::fprintf(out, "  improvement: + is better (lower latency and error rate, higher rps)\n");

  auto title = [](const PhaseComparison& p) {
    return "phase " + p.name + " [" + format_duration(p.window.start) + ".." +
           format_duration(p.window.end) + ")";
  };
  size_t width = 10;
  for (const auto& p : c.phases) {
    width = std::max(width, title(p).size() - 2);
    for (const auto& m : p.metrics) width = std::max(width, m.metric.size());
  }
  for (const auto& g : c.gates) width = std::max(width, g.change.metric.size() + 5);

  std::vector<bool> printed(c.gates.size(), false);
  for (const auto& p : c.phases) {
    std::vector<Row> rows;
    for (const auto& m : p.metrics)
      rows.push_back(row_of(m.metric, m, short_significance(m.significance)));
    for (size_t i = 0; i < c.gates.size(); ++i) {
      if (c.gates[i].phase != p.name) continue;
      rows.push_back(row_of("gate " + c.gates[i].change.metric, c.gates[i].change,
                            upper(judge::to_string(c.gates[i].status))));
      printed[i] = true;
    }
    print_rows(out, title(p), rows, width);
  }
  std::vector<Row> rest;
  for (size_t i = 0; i < c.gates.size(); ++i)
    if (!printed[i])
      rest.push_back(row_of("gate " + c.gates[i].change.metric, c.gates[i].change,
                            upper(judge::to_string(c.gates[i].status))));
  if (!rest.empty()) print_rows(out, "overall", rest, width);

  std::fprintf(out, "\ngates:\n");
  for (const auto& g : c.gates) {
    std::fprintf(out, "  %-4s %s  [%s]\n", upper(judge::to_string(g.status)).c_str(),
                 g.statement.c_str(), g.origin.c_str());
    std::fprintf(out, "       %s\n", g.message.c_str());
  }
  for (const auto& n : c.notes) std::fprintf(out, "note: %s\n", n.c_str());
}

}  // namespace faultline::compare
