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
  r.fault_events.push_back({15s, "trigger", "payment", "apply", R"({"a":1})", true, 200, "", 2ms});
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

}  // namespace

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
  const auto dir = std::filesystem::temp_directory_path() / "faultline-report-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
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
