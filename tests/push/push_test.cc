// run/push.h without a server: which push targets are refused, and which samples an artifact
// turns into.
#include "run/push.h"

#include <doctest/doctest.h>

#include <string>

#include "common/error.h"

using namespace faultline;

namespace {

std::optional<std::string> problem(const std::string& url,
                                   std::map<std::string, std::string> labels = {},
                                   bool allow_remote = false) {
  return push_target_problem(PushTarget{url, std::move(labels)}, allow_remote);
}

const PushSample* find(const std::vector<PushSample>& samples, const std::string& name,
                       const std::map<std::string, std::string>& labels) {
  for (const auto& s : samples)
    if (s.name == name && s.labels == labels) return &s;
  return nullptr;
}

const char* kArtifact = R"({
  "status": "failed", "exit_code": 1,
  "meta": {"scenario": "error-storm", "ended_at": "2026-11-30T20:05:22Z",
           "actual_duration_us": 6500000},
  "phases": [
    {"name": "warmup", "client": {"sent": 40, "error_rate": 0.0, "achieved_rps": 20.5,
      "latency_ms": {"count": 40, "p50": 9.5, "p95": 12.0, "p99": 20.0}}},
    {"name": "trigger", "client": {"sent": 0, "error_rate": 0.0, "achieved_rps": 0,
      "latency_ms": {"count": 0}}}
  ],
  "assertions": [
    {"canonical": "during(trigger): error_rate > 2%", "status": "fail"},
    {"canonical": "during(warmup): error_rate < 1%", "status": "pass"},
    {"canonical": "after(cooldown): p95 back to normal", "status": "inconclusive"}
  ]
})";

}  // namespace

TEST_CASE("push targets: loopback http base URLs only, unless remote is allowed") {
  CHECK_FALSE(problem("http://127.0.0.1:9091"));
  CHECK_FALSE(problem("http://[::1]:9091/"));
  CHECK_FALSE(problem("http://localhost:9091"));
  REQUIRE(problem("http://10.1.2.3:9091"));
  CHECK(problem("http://10.1.2.3:9091")->find("--push-allow-remote") != std::string::npos);
  CHECK_FALSE(problem("http://10.1.2.3:9091", {}, true));
  CHECK(problem("https://127.0.0.1:9091"));               // prometheus-cpp push: http only
  CHECK(problem("http://127.0.0.1:9091/metrics/job/x"));  // faultline builds the path
  CHECK(problem("http://user:pw@127.0.0.1:9091"));        // credentials end up in logs
  CHECK(problem("127.0.0.1:9091"));
}

TEST_CASE("push labels: Prometheus names, path-safe values, job and scenario reserved") {
  CHECK_FALSE(problem("http://127.0.0.1:9091", {{"cell", "latency-100ms"}}));
  CHECK(problem("http://127.0.0.1:9091", {{"job", "x"}}));
  CHECK(problem("http://127.0.0.1:9091", {{"scenario", "x"}}));
  CHECK(problem("http://127.0.0.1:9091", {{"1cell", "x"}}));
  CHECK(problem("http://127.0.0.1:9091", {{"cell", ""}}));
  CHECK(problem("http://127.0.0.1:9091", {{"cell", "a/b"}}));  // would split the URL path
}

TEST_CASE("push samples: per-phase figures, verdicts as 1 0 -1, status, exit code, end time") {
  std::string scenario;
  const auto samples = push_samples_from_artifact(kArtifact, &scenario);
  CHECK(scenario == "error-storm");

  const PushSample* s = find(samples, "faultline_run_exit_code", {});
  REQUIRE(s);
  CHECK(s->value == 1);
  s = find(samples, "faultline_run_status", {{"status", "failed"}});
  REQUIRE(s);
  CHECK(s->value == 1);
  s = find(samples, "faultline_run_end_time_seconds", {});
  REQUIRE(s);
  CHECK(s->value == 1796069122.0);  // date -u -d 2026-11-30T20:05:22Z +%s
  s = find(samples, "faultline_run_duration_seconds", {});
  REQUIRE(s);
  CHECK(s->value == doctest::Approx(6.5));

  s = find(samples, "faultline_phase_requests_sent", {{"phase", "warmup"}});
  REQUIRE(s);
  CHECK(s->value == 40);
  s = find(samples, "faultline_phase_achieved_rps", {{"phase", "warmup"}});
  REQUIRE(s);
  CHECK(s->value == 20.5);
  s = find(samples, "faultline_phase_latency_seconds", {{"phase", "warmup"}, {"quantile", "0.95"}});
  REQUIRE(s);
  CHECK(s->value == doctest::Approx(0.012));
  // A phase without latency samples has no latency series (rather than a made-up 0).
  CHECK_FALSE(find(samples, "faultline_phase_latency_seconds",
                   {{"phase", "trigger"}, {"quantile", "0.5"}}));
  CHECK(find(samples, "faultline_phase_requests_sent", {{"phase", "trigger"}}));

  int index = 0;
  for (const auto& [text, value] :
       {std::pair<std::string, double>{"during(trigger): error_rate > 2%", 0},
        {"during(warmup): error_rate < 1%", 1},
        {"after(cooldown): p95 back to normal", -1}}) {
    s = find(samples, "faultline_assertion_verdict",
             {{"index", std::to_string(index++)}, {"assertion", text}});
    REQUIRE(s);
    CHECK(s->value == value);
  }
  CHECK_FALSE(find(samples, "faultline_assertion_verdict",
                   {{"index", "3"}, {"assertion", "after(cooldown): p95 back to normal"}}));
}

TEST_CASE("push samples: what is not a run artifact is a usage error") {
  std::string scenario;
  CHECK_THROWS_AS(push_samples_from_artifact("not json", &scenario), UsageError);
  CHECK_THROWS_AS(push_samples_from_artifact(R"({"status": "passed"})", &scenario), UsageError);
  CHECK_THROWS_AS(push_samples_from_artifact(
                      R"({"exit_code": 0, "meta": {"scenario": "a/b"}, "phases": [],
                          "assertions": []})",
                      &scenario),
                  UsageError);
}
