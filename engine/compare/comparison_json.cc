#include "compare/comparison_json.h"

#include <cmath>

#include "common/json_out.h"
#include "common/version.h"
#include "judge/value_format.h"

namespace faultline::compare {

namespace {

const char* type_name(dsl::ValueType t) {
  switch (t) {
    case dsl::ValueType::kDuration:
      return "duration";
    case dsl::ValueType::kFraction:
      return "fraction";
    case dsl::ValueType::kRate:
      return "rate";
    case dsl::ValueType::kNumber:
      return "number";
  }
  return "number";
}

void write_run(JsonOut& j, const char* k, const RunInfo& r) {
  j.key(k).begin_object();
  j.member("artifact", r.artifact);
  j.member("tag", r.tag);
  j.member("status", r.status);
  j.member("started_at", r.started_at);
  j.member("environment", r.environment);
  j.member("plan_hash", r.plan_hash);
  j.member("seed", r.seed);
  j.member("note", r.note);
  j.end_object();
}

void write_window(JsonOut& j, const judge::TimeWindow& w) {
  j.key("window").begin_object();
  j.member("label", w.label);
  j.member("start_us", static_cast<int64_t>(w.start.count()));
  j.member("end_us", static_cast<int64_t>(w.end.count()));
  j.end_object();
}

void write_read(JsonOut& j, const char* k, const ValueRead& r) {
  j.key(k).begin_object();
  j.member("value", r.value);
  j.member("text", r.text);
  j.member("samples", r.samples);
  j.member("sample_noun", r.noun);
  j.member("note", r.note);
  j.end_object();
}

std::string change_text(const std::optional<double>& improvement) {
  if (!improvement) return "no value";
  return judge::format_change(*improvement);
}

void write_metric(JsonOut& j, const MetricComparison& m) {
  j.member("metric", m.metric);
  j.member("type", type_name(m.type));
  j.member("higher_is_better", m.higher_is_better);
  write_window(j, m.window);
  write_read(j, "baseline", m.baseline);
  write_read(j, "candidate", m.candidate);
  j.member("improvement", m.improvement);
  j.member("improvement_text", change_text(m.improvement));
  j.key("interval");
  if (m.interval) {
    const ChangeEstimate& e = *m.interval;
    j.begin_object();
    j.member("low", e.low);
    j.member("high", e.high);
    j.member("text", judge::format_change(e.low) + " .. " + judge::format_change(e.high));
    j.member("confidence", e.confidence);
    j.member("resamples", e.resamples);
    j.member("point", e.point);
    j.end_object();
  } else {
    j.null();
  }
  j.member("interval_note", m.interval_note);
  j.member("significance", to_string(m.significance));
}

}  // namespace

std::string comparison_to_json(const Comparison& c) {
  JsonOut j;
  j.begin_object();
  j.member("schema_version", kCompareSchemaVersion);
  j.member("kind", "comparison");
  j.member("status", c.passed() ? "passed" : "failed");
  j.member("exit_code", c.passed() ? 0 : 1);
  j.member("scenario", c.scenario);
  j.member("created_at", c.created_at);
  j.member("tool_version", version());
  j.member("command", c.command);
  write_run(j, "baseline", c.baseline);
  write_run(j, "candidate", c.candidate);

  j.key("plans").begin_object();
  j.member("same", c.plan_differences.empty());
  j.key("differences").begin_array();
  for (const auto& d : c.plan_differences) {
    j.begin_object();
    j.member("path", d.path);
    j.member("baseline", d.baseline);
    j.member("candidate", d.candidate);
    j.end_object();
  }
  j.end_array();
  j.end_object();

  j.key("bootstrap").begin_object();
  j.member("method", "percentile");
  j.member("resamples", c.bootstrap.resamples);
  j.member("confidence", c.bootstrap.confidence);
  j.member("seed", c.bootstrap.seed);
  j.end_object();

  j.key("gates").begin_array();
  for (const auto& g : c.gates) {
    j.begin_object();
    j.member("statement", g.statement);
    j.member("origin", g.origin);
    j.member("phase", g.phase);
    j.member("direction", g.direction);
    j.member("op", g.op);
    j.member("threshold", g.threshold);
    j.member("threshold_text", g.threshold_text);
    j.member("status", judge::to_string(g.status));
    j.member("expected", g.expected);
    j.member("message", g.message);
    write_metric(j, g.change);
    j.end_object();
  }
  j.end_array();

  j.key("phases").begin_array();
  for (const auto& p : c.phases) {
    j.begin_object();
    j.member("name", p.name);
    write_window(j, p.window);
    j.key("metrics").begin_array();
    for (const auto& m : p.metrics) {
      j.begin_object();
      write_metric(j, m);
      j.end_object();
    }
    j.end_array();
    j.end_object();
  }
  j.end_array();

  j.key("notes").begin_array();
  for (const auto& n : c.notes) j.value(n);
  j.end_array();
  j.end_object();
  return j.text();
}

}  // namespace faultline::compare
