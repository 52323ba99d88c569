#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/file_io.h"
#include "report/redact.h"
#include "report/report_json.h"
#include "report_schema.h"
#include "temp_dir.h"

using namespace faultline;
using namespace std::chrono_literals;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string schema_problem(const std::string& json) {
  return faultline::testing::report_schema_problem(json);
}

RunReport sample_report() {
  RunReport r;
  r.status = RunStatus::kFailed;
  r.exit_code = 1;
  r.scenario = "latency-tail";
  r.spec_path = "specs/latency-tail.yaml";
  r.seed = 42;
  r.plan_hash = std::string(64, 'a');
  r.tag = "before";
  r.planned_duration = 60s;
  r.actual_duration = 60s;
  r.started_at = "2026-11-22T18:00:00Z";
  r.overrides["--qps"] = "30";
  r.services.push_back({"api", "http://127.0.0.1:4000", true, 1234, "logs/api.log"});
  PhaseReport p;
  p.name = "trigger";
  p.start = 15s;
  p.end = 40s;
  p.faults["payment"] = R"({"payment_latency_ms_add":1500})";
  p.client.sent = 100;
  p.client.completed = 98;
  p.client.by_status_class["2xx"] = 90;
  p.client.by_error_class["timeout"] = 2;
  p.client.latency.count = 100;
  p.client.latency.p95_ms = 812.5;
  p.client.latency.p50_ms = std::nan("");  // never emitted as NaN
  p.routes["orders"] = p.client;
  p.server.push_back({"api", {{"http_p95_ms", 790.0}}});
  r.phases.push_back(p);
  r.fault_events.push_back(
      {15s, "trigger", "knobs", "payment", "apply", R"({"a":1})", true, 200, "", 2ms});
  AssertionReport a;
  a.text = "during(trigger): p95(route=orders) > 800ms";
  a.status = judge::VerdictStatus::kPass;
  a.observed.push_back({"p95(route=orders)", "during(trigger)", 0.8125, "812ms", 30, ""});
  a.observed.push_back({"p95", "during(warmup)", std::nullopt, "", 0, "no requests"});
  r.assertions.push_back(a);
  r.slowest.push_back(
      {7, "fl-42-7", "abc", "orders", "POST", "/orders", "trigger", 200, "", 16s, 1600ms});
  r.error_signatures.push_back({"POST orders -> 502", 12, "fl-42-9"});
  r.hint_request_ids = {"fl-42-7"};
  return r;
}

// sample_report() with every remaining field set to a value of its own, so that a field
// written from the wrong member, or not at all, shows in the comparison below.
RunReport full_report() {
  RunReport r = sample_report();
  r.status_detail = "detail";
  r.description = "the p95 of orders climbs";
  r.environment_path = "envs/local.yaml";
  r.faultline_version = "0.1.0";
  r.command_line = "faultline run specs/latency-tail.yaml";
  r.host = "box";
  r.schedule_sha256 = std::string(64, 'b');
  r.arrivals = 2600;
  r.base_rate = 40;
  r.actual_duration = 59s;
  r.ended_at = "2026-11-22T18:01:00Z";
  r.plan_zero_unix_ms = 1795370400300;
  r.observe_source = "prometheus";
  r.observe_url = "http://127.0.0.1:9090";
  r.observe_match = "job=\"{service}\"";
  PhaseReport& p = r.phases[0];
  p.planned_rate_from = 40;
  p.planned_rate_to = 80;
  p.planned_requests = 1500;
  p.client.dropped = 3;
  p.client.error_rate = 0.125;
  p.client.achieved_rps = 39.5;
  p.client.latency.p99_ms = 1600;
  p.client.latency.max_ms = 1700.25;
  p.client.latency.mean_ms = 300.5;
  TrafficSummary users;
  users.sent = 7;
  users.completed = 6;
  users.dropped = 1;
  users.by_status_class["5xx"] = 2;
  users.error_rate = 0.25;
  users.achieved_rps = 0.5;
  users.latency.count = 6;
  users.latency.p50_ms = 10;
  p.routes["users"] = users;
  p.send_lateness = {100, 0.25, 12.5, 40.75, true};
  r.scrape_failures.push_back({"api", 3, {{20s, "HTTP 503: busy"}, {21s, "timeout after 2s"}}});
  HookRecord setup;
  setup.name = "flush";
  setup.stage = "setup";
  setup.kind = "exec";
  setup.ok = true;
  setup.attempts = 1;
  setup.exit_code = 0;
  setup.elapsed = 12ms;
  setup.output_file = "hooks/flush.out";
  setup.output = "OK";  // stays in the bundle, not in the artifact
  r.hooks.push_back(setup);
  HookRecord verify;
  verify.name = "effects";
  verify.stage = "verify";
  verify.kind = "http";
  verify.ok = false;
  verify.attempts = 3;
  verify.http_status = 503;
  verify.elapsed = 1s;
  verify.error = "HTTP 503";
  verify.output_file = "hooks/effects.out";
  r.hooks.push_back(verify);
  judge::IdHistory h;
  h.source_hook = "effects";
  h.acknowledged = 10;
  h.applied = 10;
  h.ack_missing = 1;
  h.lost = {1, {"o-3"}};
  h.duplicated = {1, {"o-4"}};
  r.history = h;
  r.fault_events.push_back(
      {40s, "cooldown", "knobs", "payment", "reset", "", false, 503, "refused", 5ms});
  r.faults_undone = false;
  AssertionReport& a = r.assertions[0];
  a.canonical = "during(trigger): p95(route=orders) > 800ms";
  a.window = "during(trigger)";
  a.window_start = 15s;
  a.window_end = 40s;
  a.expected = "greater than 800ms";
  a.message = "p95 is 812ms";
  a.source = "specs/latency-tail.yaml:31:5";
  r.abort_condition = "overall: error_rate > 50%";
  r.aborted_at = 33s;
  r.hint_trace_ids = {"4bf92f3577b34da6a3ce929d0e0e4736"};
  r.replay_of = "artifacts/incident-latency-tail-20261122T170000Z.json";
  r.replay_source_schedule_sha256 = std::string(64, 'c');
  r.replay_schedule_matched = true;
  r.bundle_dir = "incident-latency-tail-20261122T180000Z";
  r.bundle_files = {"plan.json", "samples.csv.gz"};
  return r;
}

// full_report() as JSON, written out by hand: every section and every field.
constexpr const char* kFullReportJson = R"json({
  "schema_version": 1, "status": "failed", "exit_code": 1, "status_detail": "detail",
  "meta": {
    "scenario": "latency-tail", "description": "the p95 of orders climbs",
    "spec_path": "specs/latency-tail.yaml", "environment_path": "envs/local.yaml", "seed": 42,
    "plan_hash": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "schedule_sha256": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "arrivals": 2600, "tag": "before", "base_rate": 40.0,
    "planned_duration_us": 60000000, "actual_duration_us": 59000000,
    "started_at": "2026-11-22T18:00:00Z", "ended_at": "2026-11-22T18:01:00Z",
    "plan_zero_unix_ms": 1795370400300,
    "observe": {"source": "prometheus", "url": "http://127.0.0.1:9090",
                "match": "job=\"{service}\""},
    "faultline_version": "0.1.0", "command_line": "faultline run specs/latency-tail.yaml",
    "host": "box", "overrides": {"--qps": "30"},
    "services": [{"name": "api", "url": "http://127.0.0.1:4000", "started_here": true,
                  "pid": 1234, "log": "logs/api.log"}]
  },
  "phases": [{
    "name": "trigger", "start_us": 15000000, "end_us": 40000000,
    "planned_rate_from": 40.0, "planned_rate_to": 80.0, "planned_requests": 1500.0,
    "faults": {"payment": {"payment_latency_ms_add": 1500}},
    "client": {
      "sent": 100, "completed": 98, "dropped": 3, "achieved_rps": 39.5, "error_rate": 0.125,
      "by_status_class": {"2xx": 90}, "by_error_class": {"timeout": 2},
      "latency_ms": {"count": 100, "p50": null, "p95": 812.5, "p99": 1600.0, "max": 1700.25,
                     "mean": 300.5}
    },
    "routes": {
      "orders": {
        "sent": 100, "completed": 98, "dropped": 0, "achieved_rps": 0.0, "error_rate": 0.0,
        "by_status_class": {"2xx": 90}, "by_error_class": {"timeout": 2},
        "latency_ms": {"count": 100, "p50": null, "p95": 812.5, "p99": null, "max": null,
                       "mean": null}
      },
      "users": {
        "sent": 7, "completed": 6, "dropped": 1, "achieved_rps": 0.5, "error_rate": 0.25,
        "by_status_class": {"5xx": 2}, "by_error_class": {},
        "latency_ms": {"count": 6, "p50": 10.0, "p95": null, "p99": null, "max": null,
                       "mean": null}
      }
    },
    "server": {"api": {"http_p95_ms": 790.0}},
    "send_lateness_ms": {"count": 100, "p50": 0.25, "p99": 12.5, "max": 40.75},
    "client_lagging": true
  }],
  "scrape_failures": [{"service": "api", "count": 3, "first": [
    {"at_us": 20000000, "reason": "HTTP 503: busy"},
    {"at_us": 21000000, "reason": "timeout after 2s"}]}],
  "fault_events": [
    {"at_us": 15000000, "phase": "trigger", "kind": "knobs", "target": "payment",
     "action": "apply", "state": {"a": 1}, "ok": true, "status": 200, "error": "", "call_latency_us": 2000},
    {"at_us": 40000000, "phase": "cooldown", "kind": "knobs", "target": "payment",
     "action": "reset", "state": {}, "ok": false, "status": 503, "error": "refused", "call_latency_us": 5000}
  ],
  "faults_undone": false,
  "hooks": [
    {"name": "flush", "stage": "setup", "kind": "exec", "ok": true, "attempts": 1,
     "exit_code": 0, "elapsed_us": 12000, "error": "", "output": "hooks/flush.out"},
    {"name": "effects", "stage": "verify", "kind": "http", "ok": false, "attempts": 3,
     "http_status": 503, "elapsed_us": 1000000, "error": "HTTP 503",
     "output": "hooks/effects.out"}],
  "history": {"source_hook": "effects", "acknowledged": 10, "applied": 10, "ack_missing": 1,
    "lost": {"count": 1, "examples": ["o-3"]}, "duplicated": {"count": 1, "examples": ["o-4"]},
    "unexpected": {"count": 0, "examples": []}},
  "assertions": [{
    "text": "during(trigger): p95(route=orders) > 800ms",
    "canonical": "during(trigger): p95(route=orders) > 800ms", "status": "pass",
    "window": "during(trigger)",
                     "window_start_us" : 15000000, "window_end_us" : 40000000,
                     "expected" : "greater than 800ms",
                     "message" : "p95 is 812ms",
                     "source" : "specs/latency-tail.yaml:31:5",
                     "observed" : [
                       {
                         "what" : "p95(route=orders)",
                         "window" : "during(trigger)",
                         "value" : 0.8125,
                         "display" : "812ms",
                         "samples" : 30,
                         "note" : ""
                       },
                       {
                         "what" : "p95",
                         "window" : "during(warmup)",
                         "value" : null,
                         "display" : "",
                         "samples" : 0,
                         "note" : "no requests"
                       }
                     ]
}],
  "replay": {"is_replay": true,
             "source_artifact": "artifacts/incident-latency-tail-20261122T170000Z.json",
             "source_schedule_sha256":
                 "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
             "schedule_matched": true},
  "abort": {"triggered": true, "condition": "overall: error_rate > 50%", "at_us": 33000000},
  "slowest_requests": [
    {"seq": 7, "request_id": "fl-42-7", "trace_id": "abc", "route": "orders", "method": "POST",
     "path": "/orders", "phase": "trigger", "status": 200, "error_class": "",
     "intended_us": 16000000, "latency_us": 1600000}
  ],
  "error_signatures": [
    {"signature": "POST orders -> 502", "count": 12, "example_request_id": "fl-42-9"}
  ],
  "hints": {
    "request_ids": ["fl-42-7"], "trace_ids": ["4bf92f3577b34da6a3ce929d0e0e4736"],
    "how": "grep a request id in the bundle's service logs and samples; the trace ids are the W3C traceparent trace ids the requests carried"
  },
  "bundle": {
  "dir" : "incident-latency-tail-20261122T180000Z", "files" : [ "plan.json", "samples.csv.gz" ]
}
})json";

// The members of `actual` that differ from `expected`, as JSON pointers ("" when equal).
std::string differences(const rapidjson::Value& actual, const rapidjson::Value& expected,
                        const std::string& at = "") {
  if (actual.IsObject() && expected.IsObject()) {
    std::string out;
    for (const auto& m : expected.GetObject()) {
      const std::string path = at + "/" + m.name.GetString();
      out += actual.HasMember(m.name) ? differences(actual[m.name], m.value, path)
                                      : "missing " + path + "\n";
    }
    for (const auto& m : actual.GetObject()) {
      if (!expected.HasMember(m.name)) out += "unexpected " + at + "/" + m.name.GetString() + "\n";
    }
    return out;
  }
  if (actual.IsArray() && expected.IsArray() && actual.Size() == expected.Size()) {
    std::string out;
    for (rapidjson::SizeType i = 0; i < actual.Size(); ++i)
      out += differences(actual[i], expected[i], at + "/" + std::to_string(i));
    return out;
  }
  return actual == expected ? "" : "differs at " + at + "\n";
}

}  // namespace

TEST_CASE("every section of a report survives the round trip to JSON") {
  const std::string json = report_to_json(full_report());
  CHECK(schema_problem(json) == "");
  rapidjson::Document actual, expected;
  actual.Parse(json.c_str());
  expected.Parse(kFullReportJson);
  REQUIRE_FALSE(actual.HasParseError());
  REQUIRE_FALSE(expected.HasParseError());
  INFO(json);
  CHECK(differences(actual, expected) == "");
  // Every section the schema knows is in the comparison.
  rapidjson::Document schema;
  schema.Parse(
      read_file(std::string(FAULTLINE_SOURCE_DIR) + "/schemas/report.schema.json").c_str());
  REQUIRE(schema.IsObject());
  REQUIRE(schema["properties"].MemberCount() >= 15);
  for (const auto& section : schema["properties"].GetObject()) {
    CHECK_MESSAGE(expected.HasMember(section.name), section.name.GetString());
  }
}

TEST_CASE("a report serialises to JSON that the report schema accepts") {
  const std::string json = report_to_json(sample_report());
  CHECK(schema_problem(json) == "");
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  CHECK(std::string(doc["status"].GetString()) == "failed");
  CHECK(doc["phases"][0]["client"]["latency_ms"]["p95"].GetDouble() == 812.5);
  CHECK(doc["phases"][0]["client"]["latency_ms"]["p50"].IsNull());
  CHECK(doc["phases"][0]["faults"]["payment"]["payment_latency_ms_add"].GetInt() == 1500);
  CHECK(doc["assertions"][0]["observed"][1]["value"].IsNull());
}

TEST_CASE("the schema rejects reports that break the contract") {
  RunReport bad_hash = sample_report();
  bad_hash.plan_hash = "not-a-hash";
  CHECK(schema_problem(report_to_json(bad_hash)) != "");
  RunReport too_many = sample_report();
  too_many.slowest.resize(51);
  CHECK(schema_problem(report_to_json(too_many)) != "");
  std::string json = report_to_json(sample_report());
  const auto pos = json.find("\"failed\"");
  json.replace(pos, 8, "\"fine\"");
  CHECK(schema_problem(json).find("enum") != std::string::npos);
}

TEST_CASE("atomic writes replace the file whole and leave no temp files") {
  const faultline::testing::TempDir tmp("report");
  const std::filesystem::path dir = tmp.path();
  const std::string path = (dir / "a.json").string();
  write_file_atomically(path, "first");
  write_file_atomically(path, "second");
  CHECK(read_file(path) == "second");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  CHECK(files == 1);
  CHECK_THROWS(write_file_atomically((dir / "missing" / "b.json").string(), "x"));
}

TEST_CASE("secrets are redacted from report text") {
  CHECK(redact_secrets("Authorization: Bearer abc.def") == "Authorization: [redacted]");
  CHECK(redact_secrets("sent bearer XYZ123 to payment") == "sent bearer [redacted] to payment");
  CHECK(redact_secrets(R"({"card":"4111","api_key":"k-123","x":1})") ==
        R"({"card":"4111","api_key":"[redacted]","x":1})");
  CHECK(redact_secrets("GET /charge?token=s3cr3t&amount=5") ==
        "GET /charge?token=[redacted]&amount=5");
  CHECK(redact_secrets("user jane.doe@example.com failed") == "user [redacted-email] failed");
  CHECK(redact_secrets("POST /orders -> 502 payment_failed") ==
        "POST /orders -> 502 payment_failed");
}
