#include "faults/fault_knobs.h"

#include <doctest/doctest.h>

#include <string>

using faultline::demo::FaultState;
using faultline::demo::knob_catalog;
using faultline::demo::Role;
using namespace std::chrono_literals;

namespace {

// An injectable clock: tests move time by hand.
const FaultState::Clock::time_point kT0 = FaultState::Clock::time_point(std::chrono::hours(1));

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("knobs: each role's catalog holds the contract's knobs with sane ranges") {
  auto names = [](Role role) {
    std::string all;
    for (const auto& k : knob_catalog(role)) {
      all += k.name + " ";
      CHECK(k.default_value >= k.min);
      CHECK(k.default_value <= k.max);
      CHECK_FALSE(k.meaning.empty());
      if (k.name.size() > 5 && k.name.substr(k.name.size() - 5) == "_rate") {
        CHECK(k.kind == faultline::demo::KnobKind::kFraction);
        CHECK(k.max == 1);
      }
      if (k.name.size() > 4 && k.name.substr(k.name.size() - 4) == "_pct") {
        CHECK(k.kind == faultline::demo::KnobKind::kPercent);
        CHECK(k.max == 100);
        CHECK(k.default_value == 100);
      }
      if (k.name.find("_ms") != std::string::npos)
        CHECK(k.kind == faultline::demo::KnobKind::kMilliseconds);
    }
    return all;
  };
  const std::string api = names(Role::kApi);
  CHECK(has(api, "db_latency_ms_add "));
  CHECK(has(api, "db_latency_tail_pct "));
  CHECK(has(api, "force_timeout "));
  const std::string payment = names(Role::kPayment);
  for (const char* k : {"db_latency_ms_add ", "db_latency_tail_pct ", "payment_fail_rate ",
                        "payment_latency_ms_add ", "payment_latency_pct ", "force_timeout "})
    CHECK(has(payment, k));
  const std::string worker = names(Role::kWorker);
  CHECK(has(worker, "worker_delay_ms "));
  CHECK(has(worker, "worker_fail_rate "));
  CHECK_FALSE(has(worker, "payment_fail_rate"));
}

TEST_CASE("knobs: a valid merge applies and reports what changed") {
  FaultState s(knob_catalog(Role::kPayment));
  CHECK(s.at_baseline(kT0));
  auto r = s.apply_json(R"({"payment_fail_rate": 0.2, "payment_latency_ms_add": 300})", kT0);
  REQUIRE(r.ok);
  CHECK(r.applied == "payment_fail_rate=0.2 payment_latency_ms_add=300");
  CHECK(s.value("payment_fail_rate", kT0) == 0.2);
  CHECK(s.value("payment_latency_ms_add", kT0) == 300);
  CHECK(s.value("payment_latency_pct", kT0) == 100);  // untouched default
  CHECK_FALSE(s.at_baseline(kT0));
  // A second merge keeps what it does not name.
  REQUIRE(s.apply_json(R"({"force_timeout": true})", kT0).ok);
  CHECK(s.flag("force_timeout", kT0));
  CHECK(s.value("payment_fail_rate", kT0) == 0.2);
  s.reset();
  CHECK(s.at_baseline(kT0));
}

TEST_CASE("knobs: bad requests are rejected whole, naming the knob") {
  FaultState s(knob_catalog(Role::kPayment));
  struct Case {
    const char* body;
    const char* knob;
    const char* says;
  };
  const Case cases[] = {
      {R"({"payment_fail_rate": 0.2, "paymnt_fail_rate": 0.1})", "paymnt_fail_rate",
       "did you mean payment_fail_rate"},
      {R"({"payment_fail_rate": 20})", "payment_fail_rate", "fractions"},
      {R"({"payment_fail_rate": -0.1})", "payment_fail_rate", "out of range"},
      {R"({"payment_fail_rate": "0.2"})", "payment_fail_rate", "a fraction"},
      {R"({"payment_latency_ms_add": 1.5})", "payment_latency_ms_add", "integer"},
      {R"({"payment_latency_ms_add": -1})", "payment_latency_ms_add", "out of range"},
      {R"({"payment_latency_ms_add": 300001})", "payment_latency_ms_add", "out of range"},
      {R"({"payment_latency_pct": 100.5})", "payment_latency_pct", "out of range"},
      {R"({"force_timeout": 1})", "force_timeout", "boolean"},
      {R"({"payment_fail_rate": 0.1, "payment_fail_rate": 0.2})", "payment_fail_rate", "twice"},
      {R"({"ttl_ms": 0})", "ttl_ms", "ttl_ms"},
      {R"({"ttl_ms": "5s"})", "ttl_ms", "ttl_ms"},
      {R"({"worker_delay_ms": 5})", "worker_delay_ms", "unknown knob"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.body);
    auto r = s.apply_json(c.body, kT0);
    CHECK_FALSE(r.ok);
    CHECK(r.knob == c.knob);
    CHECK(has(r.message, c.says));
    CHECK(s.at_baseline(kT0));  // all-or-nothing: the valid member before the bad one is not kept
  }
  for (const char* body : {"", "{", "[]", "42", "{\"a\":1} x", "null"}) {
    CAPTURE(body);
    auto r = s.apply_json(body, kT0);
    CHECK_FALSE(r.ok);
    CHECK(r.knob.empty());
  }
  CHECK(s.at_baseline(kT0));
}

TEST_CASE("knobs: a lease reverts to baseline when it runs out, unless renewed") {
  FaultState s(knob_catalog(Role::kWorker));
  CHECK_FALSE(s.lease_remaining(kT0).has_value());
  REQUIRE(s.apply_json(R"({"worker_delay_ms": 50, "ttl_ms": 1000})", kT0).ok);
  CHECK(s.lease_remaining(kT0) == 1000ms);
  CHECK(s.value("worker_delay_ms", kT0 + 999ms) == 50);
  // Renewal: another POST with ttl_ms pushes the deadline out.
  REQUIRE(s.apply_json(R"({"ttl_ms": 1000})", kT0 + 900ms).ok);
  CHECK(s.value("worker_delay_ms", kT0 + 1500ms) == 50);
  // A POST without ttl_ms keeps the running lease.
  REQUIRE(s.apply_json(R"({"worker_fail_rate": 0.5})", kT0 + 1600ms).ok);
  CHECK(s.lease_remaining(kT0 + 1600ms) == 300ms);
  CHECK_FALSE(s.expire_if_due(kT0 + 1899ms));
  CHECK(s.expire_if_due(kT0 + 1900ms));
  CHECK_FALSE(s.expire_if_due(kT0 + 1901ms));  // reported once
  CHECK(s.at_baseline(kT0 + 1900ms));
  CHECK_FALSE(s.lease_remaining(kT0 + 1900ms).has_value());
}

TEST_CASE("knobs: an expiry seen first by a read is still reported once") {
  FaultState s(knob_catalog(Role::kWorker));
  REQUIRE(s.apply_json(R"({"worker_delay_ms": 50, "ttl_ms": 10})", kT0).ok);
  CHECK(s.value("worker_delay_ms", kT0 + 20ms) == 0);  // the read reverts
  CHECK(s.expire_if_due(kT0 + 21ms));                  // and the watcher still hears of it
  CHECK_FALSE(s.expire_if_due(kT0 + 22ms));
}

TEST_CASE("knobs: state JSON shows active values, lease and catalog") {
  FaultState s(knob_catalog(Role::kApi));
  const std::string base = s.state_json("api", kT0);
  CHECK(has(base, R"("role":"api")"));
  CHECK(has(base, R"("baseline":true)"));
  CHECK(has(base, R"("lease":{"expires_in_ms":null})"));
  CHECK(has(base, R"("db_latency_tail_pct":100.0)"));
  CHECK(has(base, R"({"name":"db_latency_ms_add","type":"integer","unit":"ms","min":0,)"));
  CHECK(has(base, R"({"name":"force_timeout","type":"boolean","default":false,)"));
  REQUIRE(
      s.apply_json(R"({"db_latency_ms_add": 250, "force_timeout": true, "ttl_ms": 5000})", kT0).ok);
  const std::string active = s.state_json("api", kT0 + 1000ms);
  CHECK(has(active, R"("db_latency_ms_add":250)"));
  CHECK(has(active, R"("force_timeout":true)"));
  CHECK(has(active, R"("baseline":false)"));
  CHECK(has(active, R"("lease":{"expires_in_ms":4000})"));
}
