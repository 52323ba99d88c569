// KnobDriver over a fake transport: what it sends, in what order, and how it behaves when the
// service's control plane times out or refuses. Plan times are given by the test; real time
// only passes while a background call completes (awaited against a deadline).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "faults/knob_driver.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;

// Answers like a demo service: GET /__faults lists knob "x" and "y"; POST succeeds unless
// the test says otherwise. Records every call as "POST /__faults/reset" etc.
struct FakeControlPlane {
  std::mutex mutex;
  std::vector<std::string> calls;
  int reset_failures_left = 0;  // resets that time out before one succeeds (after preflight)
  bool resets_refused = false;
  long apply_status = 200;
  bool preflight_done = false;
  // When set, resets block until `release` (bounded by 5 s so a bug cannot hang the test).
  bool block_resets = false;
  bool release = false;
  std::condition_variable released;

  HttpResponse operator()(const HttpRequest& req) {
    const std::string path = req.url.substr(req.url.find("/__"));
    std::unique_lock lock(mutex);
    calls.push_back(req.method + " " + path + (req.body.empty() ? "" : " " + req.body));
    HttpResponse r;
    if (req.method == "GET") {
      r.status = 200;
      r.body = R"({"catalog":[{"name":"x"},{"name":"y"}]})";
      return r;
    }
    if (path == "/__faults/reset" || req.method == "DELETE") {
      if (!preflight_done) {
        r.status = 200;
        return r;
      }
      if (block_resets) released.wait_for(lock, 5s, [&] { return release; });
      if (resets_refused) {
        r.error = "Connection refused";
        r.error_class = "refused";
        return r;
      }
      if (reset_failures_left > 0) {
        --reset_failures_left;
        r.error = "Timeout was reached";
        r.error_class = "timeout";
        return r;
      }
      r.status = 200;
      return r;
    }
    r.status = apply_status;
    if (apply_status != 200) r.body = R"({"error":"boom"})";
    return r;
  }
  size_t count(const std::string& prefix) {
    std::lock_guard lock(mutex);
    size_t n = 0;
    for (const auto& c : calls) n += c.rfind(prefix, 0) == 0;
    return n;
  }
};

Plan plan_with(std::vector<FaultStep> steps) {
  Plan p;
  p.fault_steps = std::move(steps);
  return p;
}

struct DriverHarness {
  FakeControlPlane plane;
  KnobDriverOptions options;
  std::unique_ptr<KnobDriver> driver;

  DriverHarness() {
    options.lease = 6s;
    options.retry_interval = 1s;
  }
  KnobDriver& make(const Plan& plan) {
    driver = std::make_unique<KnobDriver>(
        [](const std::string& s) {
          return FaultEndpoint{s, "http://127.0.0.1:1", ""};
        },
        options, [this](const HttpRequest& r) { return plane(r); });
    driver->preflight(plan);
    plane.preflight_done = true;
    return *driver;
  }
  // Ticks at plan time `now` until no call is under way (background calls take real time).
  void settle(Duration now) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    do {
      driver->tick(now);
      if (driver->settled()) return;
      std::this_thread::yield();
    } while (std::chrono::steady_clock::now() < deadline);
  }
  // Ticks every 100 ms of plan time over [from, to), letting each call finish.
  void run(Duration from, Duration to) {
    for (Duration t = from; t < to; t += 100ms) {
      driver->tick(t);
      const auto deadline = std::chrono::steady_clock::now() + 5s;
      while (driver->calls_under_way() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
        driver->tick(t);
      }
    }
  }
  std::vector<FaultEvent> events_after(Duration t) {
    std::vector<FaultEvent> out;
    for (auto& e : driver->events())
      if (e.at >= t) out.push_back(e);
    return out;
  }
};

TEST_CASE("knobs are applied with a lease and renewed every half lease while the plan holds them") {
  DriverHarness h;
  auto& d = h.make(plan_with({{0s, "trigger", "knobs", "api", R"({"x":1})"}}));
  d.apply({0s, "trigger", "knobs", "api", R"({"x":1})"}, 0s);
  h.settle(0s);
  CHECK(h.plane.count(R"(POST /__faults {"x":1,"ttl_ms":6000})") == 1);
  h.run(100ms, 10s);
  // Renewed at 3 s, 6 s and 9 s.
  size_t renews = 0;
  for (const auto& e : d.events()) renews += e.action == "renew";
  CHECK(renews == 3);
  CHECK(h.plane.count(R"(POST /__faults {"x":1,"ttl_ms":6000})") == 4);
}

TEST_CASE("a reset that times out stops the renewals at once and is retried until confirmed") {
  DriverHarness h;
  auto& d = h.make(plan_with(
      {{0s, "trigger", "knobs", "api", R"({"x":1})"}, {10s, "cooldown", "knobs", "api", "{}"}}));
  d.apply({0s, "trigger", "knobs", "api", R"({"x":1})"}, 0s);
  h.settle(0s);
  h.run(100ms, 10s);
  h.plane.reset_failures_left = 3;
  d.apply({10s, "cooldown", "knobs", "api", "{}"}, 10s);
  h.run(10s, 20s);
  const auto after = h.events_after(10s);
  size_t resets = 0, failed = 0;
  Duration last_failure{-1};
  for (const auto& e : after) {
    CHECK(e.action != "renew");  // never renewed once the plan lifted the knobs
    if (e.action != "reset") continue;
    ++resets;
    if (!e.ok) {
      // Retries are spaced by the retry interval, not hammered every tick.
      if (last_failure >= 0s) CHECK(e.at - last_failure >= 1s);
      last_failure = e.at;
      ++failed;
    }
  }
  CHECK(failed == 3);
  CHECK(resets == 4);
  CHECK(d.settled());
  CHECK(d.state().not_undone.empty());
  CHECK(d.undo_all(20s, "undo at end", 2s));
}

TEST_CASE("tick never blocks while a reset call hangs") {
  DriverHarness h;
  auto& d = h.make(plan_with(
      {{0s, "trigger", "knobs", "api", R"({"x":1})"}, {3s, "cooldown", "knobs", "api", "{}"}}));
  d.apply({0s, "trigger", "knobs", "api", R"({"x":1})"}, 0s);
  h.settle(0s);
  h.plane.block_resets = true;
  d.apply({3s, "cooldown", "knobs", "api", "{}"}, 3s);
  const auto before = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) d.tick(3s + i * 20ms);
  const auto spent = std::chrono::steady_clock::now() - before;
  CHECK_FALSE(d.settled());  // the reset is still hanging
  CHECK(spent < 1s);         // 50 ticks while it hangs (it would hang for 5 s if tick waited)
  {
    std::lock_guard lock(h.plane.mutex);
    h.plane.release = true;
  }
  h.plane.released.notify_all();
  h.settle(4s);
  CHECK(d.settled());
}

TEST_CASE("undo_all that cannot reach the service returns false and names what it may hold") {
  DriverHarness h;
  h.options.retry_interval = 50ms;
  auto& d = h.make(plan_with({{0s, "trigger", "knobs", "api", R"({"x":1})"}}));
  d.apply({0s, "trigger", "knobs", "api", R"({"x":1})"}, 0s);
  h.settle(0s);
  h.plane.resets_refused = true;
  const auto before = std::chrono::steady_clock::now();
  CHECK_FALSE(d.undo_all(1s, "undo after interrupt", 300ms));
  CHECK(std::chrono::steady_clock::now() - before < 2s);  // bounded by the budget
  const FaultState st = d.state();
  REQUIRE(st.not_undone.size() == 1);
  CHECK(st.not_undone[0].target == "api");
  CHECK(st.not_undone[0].state_json == R"({"x":1})");
  CHECK(st.not_undone[0].error == "Connection refused");
  CHECK(h.plane.count("POST /__faults/reset") >= 2);  // retried within the budget
}

TEST_CASE("a touched service gets the undo at the end even when it acknowledged its reset") {
  DriverHarness h;
  auto& d = h.make(plan_with(
      {{0s, "trigger", "knobs", "api", R"({"x":1})"}, {1s, "cooldown", "knobs", "api", "{}"}}));
  d.apply({0s, "trigger", "knobs", "api", R"({"x":1})"}, 0s);
  h.settle(0s);
  d.apply({1s, "cooldown", "knobs", "api", "{}"}, 1s);
  h.settle(1s);
  const size_t resets = h.plane.count("POST /__faults/reset");
  CHECK(d.undo_all(2s, "undo at end", 2s));
  CHECK(h.plane.count("POST /__faults/reset") == resets + 1);
  CHECK(d.events().back().action == "undo");
}

TEST_CASE("an apply the service refuses is an apply failure naming the service and knobs") {
  DriverHarness h;
  h.plane.apply_status = 500;
  auto& d = h.make(plan_with({{0s, "trigger", "knobs", "api", R"({"x":1})"}}));
  d.apply({0s, "trigger", "knobs", "api", R"({"x":1})"}, 0s);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (d.state().apply_failures.empty() && std::chrono::steady_clock::now() < deadline) {
    d.tick(0s);
    std::this_thread::yield();
  }
  const FaultState st = d.state();
  REQUIRE(st.apply_failures.size() == 1);
  CHECK(st.apply_failures[0] ==
        R"(applying faults to 'api' ({"x":1}) failed: HTTP 500: {"error":"boom"})");
}

TEST_CASE("knobs the next step drops are reset before the new knobs are applied") {
  DriverHarness h;
  auto& d = h.make(plan_with(
      {{0s, "a", "knobs", "api", R"({"x":1,"y":2})"}, {1s, "b", "knobs", "api", R"({"x":1})"}}));
  d.apply({0s, "a", "knobs", "api", R"({"x":1,"y":2})"}, 0s);
  h.settle(0s);
  d.apply({1s, "b", "knobs", "api", R"({"x":1})"}, 1s);
  h.settle(1s);
  std::vector<std::string> actions;
  for (const auto& e : d.events()) actions.push_back(e.action);
  CHECK(actions == std::vector<std::string>{"reset", "apply", "reset", "apply"});
}

TEST_CASE("preflight refuses a knob the service does not offer") {
  DriverHarness h;
  KnobDriver d(
      [](const std::string& s) {
        return FaultEndpoint{s, "http://127.0.0.1:1", ""};
      },
      h.options, [&](const HttpRequest& r) { return h.plane(r); });
  CHECK_THROWS_WITH_AS(d.preflight(plan_with({{0s, "t", "knobs", "api", R"({"z":1})"}})),
                       "preflight: service 'api' does not offer knob 'z' (its catalog: x, y)",
                       EnvironmentError);
}

TEST_CASE("with the levers protocol the same driver PUTs /__levers and DELETEs it to undo") {
  DriverHarness h;
  h.options.protocol = KnobProtocol::levers();
  const Plan plan = plan_with({{0s, "trigger", "knobs", "payment", R"({"x":1})"},
                               {2s, "trigger", "levers", "api", R"({"y":0})"},
                               {10s, "cooldown", "levers", "api", "{}"}});
  auto& d = h.make(plan);
  CHECK(d.kind() == "levers");
  CHECK_FALSE(d.handles(plan.fault_steps[0]));  // knob steps are the knob driver's
  CHECK(d.handles(plan.fault_steps[1]));
  // Preflight: the catalog from GET /__levers, then a reset to the start-up values. Only the
  // service with lever steps is asked.
  CHECK(h.plane.calls == std::vector<std::string>{"GET /__levers", "DELETE /__levers"});
  d.apply(plan.fault_steps[1], 2s);
  h.settle(2s);
  CHECK(h.plane.count(R"(PUT /__levers {"y":0,"ttl_ms":6000})") == 1);
  h.run(2100ms, 10s);
  CHECK(h.plane.count(R"(PUT /__levers {"y":0,"ttl_ms":6000})") >= 2);  // renewed
  d.apply(plan.fault_steps[2], 10s);
  h.settle(10s);
  CHECK(h.plane.count("DELETE /__levers") == 2);
  CHECK(h.plane.count("POST") == 0);
  for (const auto& e : d.events()) CHECK(e.kind == "levers");
  CHECK(d.settled());
  CHECK(d.state().not_undone.empty());
}

TEST_CASE("with the levers protocol a lever missing from the catalog fails preflight") {
  DriverHarness h;
  h.options.protocol = KnobProtocol::levers();
  KnobDriver d(
      [](const std::string& s) {
        return FaultEndpoint{s, "http://127.0.0.1:1", ""};
      },
      h.options, [&h](const HttpRequest& r) { return h.plane(r); });
  CHECK_THROWS_WITH_AS(d.preflight(plan_with({{0s, "trigger", "levers", "api", R"({"z":1})"}})),
                       "preflight: service 'api' does not offer lever 'z' (its catalog: x, y)",
                       EnvironmentError);
}

}  // namespace
}  // namespace faultline
