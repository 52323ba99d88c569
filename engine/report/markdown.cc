#include "report/markdown.h"

#include <cstdio>

#include "report/junit.h"

namespace faultline::markdown {

std::string cell(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out.empty() ? " " : out;
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::string out = "|";
  for (const auto& h : header) out += " " + cell(h) + " |";
  out += "\n|";
  for (size_t i = 0; i < header.size(); ++i) out += " --- |";
  out += "\n";
  for (const auto& row : rows) {
    out += "|";
    for (const auto& c : row) out += " " + cell(c) + " |";
    out += "\n";
  }
  return out;
}

std::string status_mark(std::string_view status) {
  if (status == "passed" || status == "pass") return "✅ " + std::string(status);
  if (status == "inconclusive") return "⚠️ " + std::string(status);
  return "❌ " + std::string(status);
}

}  // namespace faultline::markdown

namespace faultline {

namespace {

std::string ms(const std::optional<double>& v) {
  if (!v) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, *v < 10 ? "%.1fms" : "%.0fms", *v);
  return buf;
}

std::string number(const char* f, double v) {
  char buf[48];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

std::string run_summary_markdown(const RunReport& r,
                                 const std::vector<std::pair<std::string, std::string>>& files) {
  std::string md = "### faultline run " + r.scenario + (r.tag.empty() ? "" : " [" + r.tag + "]") +
                   ": " + markdown::status_mark(run_status_name(r.status)) + " (exit " +
                   std::to_string(r.exit_code) + ")\n\n";
  md += "Plan `" + r.plan_hash.substr(0, 12) + "`, seed " + std::to_string(r.seed) + ", " +
        format_duration(r.actual_duration) + " of " + format_duration(r.planned_duration) +
        " planned.\n\n";
  if (!r.status_detail.empty()) md += "> " + markdown::cell(r.status_detail) + "\n\n";
  if (!r.assertions.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& a : r.assertions) {
      const char* verdict = a.status == judge::VerdictStatus::kPass   ? "pass"
                            : a.status == judge::VerdictStatus::kFail ? "fail"
                                                                      : "inconclusive";
      rows.push_back(
          {markdown::status_mark(verdict), "`" + a.text + "`", observed_text(a),
           a.window + " " + format_duration(a.window_start) + ".." + format_duration(a.window_end),
           a.source});
    }
    md += "#### Assertions\n\n" +
          markdown::table({"verdict", "assertion", "observed", "window", "source"}, rows) + "\n";
  }
  if (!r.abort_condition.empty())
    md += "**abort_if fired** at " + format_duration(r.aborted_at) + ": `" + r.abort_condition +
          "`\n\n";
  if (!r.phases.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : r.phases) {
      const std::string planned =
          p.planned_rate_from == p.planned_rate_to
              ? number("%.1f", p.planned_rate_from)
              : number("%.0f", p.planned_rate_from) + "→" + number("%.0f", p.planned_rate_to);
      rows.push_back({p.name, format_duration(p.start) + ".." + format_duration(p.end), planned,
                      number("%.1f", p.client.achieved_rps), std::to_string(p.client.sent),
                      ms(p.client.latency.p50_ms), ms(p.client.latency.p95_ms),
                      ms(p.client.latency.p99_ms), number("%.1f%%", p.client.error_rate * 100)});
    }
    md += "#### Phases\n\n" +
          markdown::table(
              {"phase", "window", "planned/s", "sent/s", "sent", "p50", "p95", "p99", "errors"},
              rows) +
          "\n";
  }
  if (!files.empty()) {
    md += "#### Files\n\n";
    for (const auto& [what, path] : files) md += "- " + what + ": `" + path + "`\n";
    md += "\n";
  }
  return md;
}

}  // namespace faultline
