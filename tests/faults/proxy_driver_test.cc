// ProxyDriver against a real TcpProxy in front of the echo server of proxy_test_peers.h: a step's
// toxics take effect once tick() confirms them (latency measured on the wire), a new list
// replaces the old one, `down` refuses connects until undo_all, and unknown proxies or invalid
// toxics are apply failures. Which connections a toxicity hits is tcp_proxy_test's business.
#include <doctest/doctest.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/json_out.h"
#include "faults/proxy_driver.h"
#include "faults/tcp_proxy.h"
#include "proxy_test_peers.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::connect_loopback;
using testing::EchoServer;
using testing::ms_between;
using testing::receive;
using testing::send_all;
using testing::Socket;

// Upper bounds of timing checks leave room for a loaded two-core machine (as tcp_proxy_test).
constexpr double kSlackMs = 150;

struct ToxicJson {
  std::string name;
  std::string type;
  std::vector<std::pair<std::string, int64_t>> attributes;
  std::string direction = "downstream";
};

std::string proxy_state(const std::vector<ToxicJson>& toxics) {
  JsonOut j(JsonOut::kCompact);
  j.begin_object();
  j.key("toxics").begin_array();
  for (const auto& t : toxics) {
    j.begin_object();
    j.member("name", t.name);
    j.member("type", t.type);
    j.member("direction", t.direction);
    j.key("toxicity").value(1.0);
    for (const auto& [k, v] : t.attributes) j.member(k, v);
    j.end_object();
  }
  j.end_array();
  j.end_object();
  return j.text();
}

FaultStep step(const std::string& proxy, const std::string& state, Duration at = 0s) {
  FaultStep s;
  s.at = at;
  s.phase = "storm";
  s.kind = "proxy";
  s.target = proxy;
  s.state_json = state;
  return s;
}

// A TcpProxy named "db" in front of an echo server, and a driver that knows only it.
struct Rig {
  EchoServer echo;
  TcpProxy proxy{[&] {
    TcpProxyOptions o;
    o.name = "db";
    o.upstream_port = echo.port();
    o.seed = 7;
    return o;
  }()};
  ProxyDriver driver{[this](const std::string& name) { return name == "db" ? &proxy : nullptr; }};
};

// Ticks until settled(); false after `limit`.
bool settle(ProxyDriver& driver, std::chrono::milliseconds limit = 2000ms) {
  const auto deadline = Clock::now() + limit;
  while (true) {
    driver.tick(1s);
    if (driver.settled()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
}

// One request/response through the proxy; the milliseconds it took (-1 on failure).
double round_trip_ms(int port) {
  Socket s = connect_loopback(port);
  if (s.fd() < 0) return -1;
  const auto start = Clock::now();
  send_all(s, "ping");
  const auto r = receive(s, 4, 5s);
  if (r.bytes != "ping") return -1;
  return ms_between(start, r.last_at);
}

TEST_CASE("a latency toxic is confirmed by tick and measured, and lifting it removes it") {
  Rig rig;
  const std::string slow = proxy_state({{"slow", "latency", {{"latency_ms", 100}}}});
  Plan plan;
  plan.fault_steps = {step("db", slow), step("db", "{}", 5s)};
  rig.driver.preflight(plan);

  rig.driver.apply(plan.fault_steps[0], 0s);
  CHECK(rig.proxy.toxics().size() == 1);
  REQUIRE(settle(rig.driver));
  const double slow_ms = round_trip_ms(rig.proxy.port());
  CHECK(slow_ms >= 100);
  CHECK(slow_ms < 100 + kSlackMs);

  rig.driver.apply(plan.fault_steps[1], 5s);
  REQUIRE(settle(rig.driver));
  CHECK(rig.proxy.toxics().empty());
  const double fast_ms = round_trip_ms(rig.proxy.port());
  CHECK(fast_ms >= 0);
  CHECK(fast_ms < 80);  // well under the lifted 100 ms

  const auto events = rig.driver.events();
  REQUIRE(events.size() == 3);
  CHECK(events[0].action == "reset");  // preflight
  CHECK(events[0].ok);
  CHECK(events[1].action == "apply");
  CHECK(events[1].ok);
  CHECK(events[1].state_json == slow);
  CHECK(events[1].phase == "storm");
  CHECK(events[1].kind == "proxy");
  CHECK(events[1].target == "db");
  CHECK(events[2].action == "apply");
  CHECK(events[2].state_json == "{}");
  CHECK(events[2].at == 5s);
  CHECK(rig.driver.state().apply_failures.empty());
  CHECK(rig.driver.state().not_undone.empty());
}

TEST_CASE("a step's list replaces the toxics of the previous step") {
  Rig rig;
  rig.driver.apply(
      step("db", proxy_state({{"a", "latency", {{"latency_ms", 5}}},
                              {"b", "bandwidth", {{"rate_kb_per_s", 100}}, "upstream"}})),
      0s);
  REQUIRE(settle(rig.driver));
  REQUIRE(rig.proxy.toxics().size() == 2);
  const Toxic b = rig.proxy.toxics()[1];
  CHECK(b.type == ToxicType::kBandwidth);
  CHECK(b.direction == ToxicDirection::kUpstream);
  CHECK(b.rate_kb_per_s == 100);

  rig.driver.apply(step("db", proxy_state({{"a", "latency", {{"latency_ms", 7}}}}), 1s), 1s);
  REQUIRE(settle(rig.driver));
  const auto held = rig.proxy.toxics();
  REQUIRE(held.size() == 1);
  CHECK(held[0].name == "a");
  CHECK(held[0].latency_ms == 7);
}

TEST_CASE("down refuses connects, and undo_all makes the proxy listen again") {
  Rig rig;
  const std::string down = proxy_state({{"cut", "down", {}}});
  rig.driver.apply(step("db", down), 0s);
  REQUIRE(settle(rig.driver));
  int error = 0;
  Socket refused = connect_loopback(rig.proxy.port(), &error);
  CHECK(refused.fd() < 0);
  CHECK(error == ECONNREFUSED);

  CHECK(rig.driver.undo_all(2s, "undo at end", 2s));
  CHECK(rig.proxy.toxics().empty());
  CHECK(round_trip_ms(rig.proxy.port()) >= 0);
  const auto events = rig.driver.events();
  REQUIRE(events.size() == 2);
  CHECK(events[1].action == "undo");
  CHECK(events[1].ok);
  CHECK(events[1].phase == "undo at end");
  CHECK(events[1].state_json == "{}");
  CHECK(rig.driver.state().not_undone.empty());
}

TEST_CASE("an unknown proxy or an invalid toxic is an apply failure") {
  Rig rig;
  SUBCASE("unknown proxy") {
    rig.driver.apply(step("cache", proxy_state({{"slow", "latency", {{"latency_ms", 5}}}})), 0s);
    const auto failures = rig.driver.state().apply_failures;
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].find("'cache'") != std::string::npos);
    REQUIRE(rig.driver.events().size() == 1);
    CHECK_FALSE(rig.driver.events()[0].ok);
  }
  SUBCASE("invalid toxic") {
    rig.driver.apply(
        step("db", proxy_state({{"slow", "latency", {{"latency_ms", 5}, {"jitter_ms", 9}}}})), 0s);
    rig.driver.tick(0s);
    CHECK_FALSE(rig.driver.settled());
    const auto failures = rig.driver.state().apply_failures;
    REQUIRE(failures.size() == 1);
    CHECK(failures[0].find("jitter_ms") != std::string::npos);
    CHECK(rig.proxy.toxics().empty());
  }
  SUBCASE("attribute of another type") {
    rig.driver.apply(step("db", proxy_state({{"slow", "latency", {{"bytes", 5}}}})), 0s);
    CHECK(rig.driver.state().apply_failures.size() == 1);
    CHECK(rig.proxy.toxics().empty());
  }
  CHECK(rig.driver.undo_all(1s, "undo after error", 2s));
}

TEST_CASE("preflight names a missing proxy and clears toxics a proxy already holds") {
  Rig rig;
  Toxic leftover;
  leftover.name = "leftover";
  leftover.latency_ms = 50;
  rig.proxy.set_toxic(leftover);
  const std::string slow = proxy_state({{"slow", "latency", {{"latency_ms", 5}}}});

  Plan plan;
  plan.fault_steps = {step("db", slow)};
  rig.driver.preflight(plan);
  CHECK(rig.proxy.toxics().empty());

  plan.fault_steps = {step("db", slow), step("ghost", slow)};
  CHECK_THROWS_WITH_AS(rig.driver.preflight(plan), doctest::Contains("proxy 'ghost'"),
                       EnvironmentError);
  plan.fault_steps = {step("db", proxy_state({{"x", "teleport", {}}}))};
  CHECK_THROWS_WITH_AS(rig.driver.preflight(plan), doctest::Contains("unknown type"),
                       EnvironmentError);
}

TEST_CASE("undo_all reports a proxy that does not confirm the removal") {
  Rig rig;
  const std::string slow = proxy_state({{"slow", "latency", {{"latency_ms", 5}}}});
  rig.driver.apply(step("db", slow), 0s);
  REQUIRE(settle(rig.driver));
  rig.proxy.stop();  // a stopped proxy confirms nothing
  const auto started = Clock::now();
  CHECK_FALSE(rig.driver.undo_all(1s, "undo after error", 200ms));
  CHECK(Clock::now() - started < 1s);
  const auto gaps = rig.driver.state().not_undone;
  REQUIRE(gaps.size() == 1);
  CHECK(gaps[0].kind == "proxy");
  CHECK(gaps[0].target == "db");
  CHECK(gaps[0].state_json == slow);
  CHECK(gaps[0].error.find("did not confirm") != std::string::npos);
}

TEST_CASE("proxy states parse into toxics with the fields of toxic.h") {
  const auto toxics = parse_proxy_state(
      R"({"toxics":[{"name":"s","type":"slicer","direction":"upstream","toxicity":0.5,)"
      R"("average_size":100,"size_variation":10,"delay_us":250}]})");
  REQUIRE(toxics.size() == 1);
  CHECK(toxics[0].type == ToxicType::kSlicer);
  CHECK(toxics[0].direction == ToxicDirection::kUpstream);
  CHECK(toxics[0].toxicity == 0.5);
  CHECK(toxics[0].average_size == 100);
  CHECK(toxics[0].size_variation == 10);
  CHECK(toxics[0].delay_us == 250);
  CHECK(parse_proxy_state("{}").empty());
  CHECK_THROWS_AS(parse_proxy_state(R"({"toxics":[{"name":"a","type":"down"},)"
                                    R"({"name":"a","type":"down"}]})"),
                  std::invalid_argument);
  CHECK_THROWS_AS(parse_proxy_state(R"({"toxics":[{"type":"down"}]})"), std::invalid_argument);
  CHECK_THROWS_AS(parse_proxy_state(R"({"toxics":[{"name":"a","type":"down","extra":1}]})"),
                  std::invalid_argument);
}

}  // namespace
}  // namespace faultline
