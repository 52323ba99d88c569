// Services with `instances: N` and `balancer: nginx`: what the environment loader accepts, the
// placeholders that reach one instance ({api#1.port}), and the scenario checks on instance
// names (process faults on api#K, traffic and knobs to an instanced service).
#include <doctest/doctest.h>

#include "spec/environment_builder.h"
#include "spec/service_placeholders.h"
#include "spec_test_support.h"

using namespace faultline;
using faultline::testing::find_error;
using faultline::testing::MemoryWorld;
using faultline::testing::summary;

namespace {

EnvironmentLoad load_env(const std::string& text) {
  MemoryWorld w;
  w.files["envs/e.yaml"] = text;
  return load_environment("envs/e.yaml", w.options());
}

constexpr const char* kInstancedEnv = R"(services:
  api:
    command: [demo, --port, "{port}"]
    instances: 3
    balancer: nginx
  bare:
    command: [demo, --port, "{port}"]
    instances: 2
    faults: true
  payment:
    command: [demo, --port, "{port}"]
    faults: true
    instances: 2
    balancer: nginx
)";

ScenarioLoad load_scenario_text(const std::string& scenario) {
  MemoryWorld w;
  w.files["envs/inst.yaml"] = kInstancedEnv;
  w.files["s.yaml"] = scenario;
  return load_scenario("s.yaml", w.options());
}

}  // namespace

TEST_CASE("instances and balancer are read - a balancer in front of one instance is allowed") {
  const EnvironmentLoad load = load_env(R"(services:
  api:
    command: [demo, --port, "{port}"]
    instances: 3
    balancer: nginx
  single:
    command: [demo, --port, "{port}"]
    balancer: nginx
  plain:
    command: [demo, --port, "{port}", --api, "{api.url}", --one, "{api#2.port}"]
)");
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  const ServiceSpec* api = load.environment->find("api");
  REQUIRE(api);
  CHECK(api->instances == 3);
  CHECK(api->balancer == "nginx");
  CHECK(api->instanced());
  CHECK(api->has_single_address());
  const ServiceSpec* single = load.environment->find("single");
  REQUIRE(single);
  CHECK(single->instances == 1);
  CHECK(single->instanced());
  const ServiceSpec* plain = load.environment->find("plain");
  REQUIRE(plain);
  CHECK_FALSE(plain->instanced());
  // {api#2.port} makes api a dependency like {api.url} does.
  CHECK(plain->depends_on == std::vector<std::string>{"api"});
}

TEST_CASE("instances out of range and on a URL service are errors at their place") {
  const EnvironmentLoad load = load_env(R"(services:
  zero:
    command: [demo, "{port}"]
    instances: 0
  many:
    command: [demo, "{port}"]
    instances: 17
  remote:
    url: http://127.0.0.1:9
    instances: 2
  redis:
    command: [redis-server, --port, "{port}"]
    protocol: tcp
    instances: 2
    balancer: nginx
)");
  CHECK_FALSE(load.ok());
  INFO(summary(load.diagnostics));
  bool zero = false, many = false;
  for (const auto& d : load.diagnostics) {
    if (!d.is_error()) continue;
    zero |= d.path == "services.zero.instances" && d.loc.line == 4 && d.loc.column == 16;
    many |= d.path == "services.many.instances" && d.loc.line == 7 && d.loc.column == 16;
  }
  CHECK(zero);
  CHECK(many);
  const Diagnostic* url = find_error(load.diagnostics, "instances and a balancer are for services");
  REQUIRE(url);
  CHECK(url->loc.line == 10);
  CHECK(url->loc.column == 5);
  const Diagnostic* tcp = find_error(load.diagnostics, "the nginx balancer forwards HTTP");
  REQUIRE(tcp);
  CHECK(tcp->loc.line == 15);
}

TEST_CASE("a service with instances and no balancer has no single address") {
  const EnvironmentLoad load = load_env(R"(services:
  api:
    command: [demo, --port, "{port}"]
    instances: 3
  client:
    command: [demo, --port, "{port}", --api, "{api.url}", --ok, "{api#2.port}", --no, "{api#3.host}"]
  self:
    command: [demo, --port, "{port}", --peer, "{self#1.port}"]
    instances: 2
proxies:
  api_proxy: {to: api}
)");
  CHECK_FALSE(load.ok());
  INFO(summary(load.diagnostics));
  const Diagnostic* single = find_error(load.diagnostics, "runs 3 instances without a balancer");
  REQUIRE(single);
  CHECK(single->message.find("{api.url}") != std::string::npos);
  CHECK(single->hint == "add balancer: nginx or refer to one instance as {api#0.url}");
  CHECK(single->loc.line == 6);
  CHECK(single->loc.column == 47);
  CHECK(single->length == 9);
  const Diagnostic* range = find_error(load.diagnostics, "there is no api#3");
  REQUIRE(range);
  CHECK(range->message.find("has 3 instances (api#0..api#2)") != std::string::npos);
  CHECK(range->loc.line == 6);
  CHECK(range->loc.column == 88);
  CHECK(find_error(load.diagnostics, "cannot refer to an instance of its own service"));
  const Diagnostic* proxy = find_error(load.diagnostics, "the proxy has no single address");
  REQUIRE(proxy);
  CHECK(proxy->path == "proxies.api_proxy.to");
  // {api#2.port} is fine: no error points at it.
  for (const auto& d : load.diagnostics) CHECK(d.loc.column != 66);
}

TEST_CASE("find_service_placeholders reads an instance index") {
  const auto ps = find_service_placeholders("{api#1.port} {api#12345.port} {api#.port} {api#2}");
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].service == "api");
  CHECK(ps[0].instance == 1);
  CHECK(ps[0].attribute == "port");
  CHECK(ps[0].length == 12);
  const auto plain = find_service_placeholders("{api.url}");
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].instance == -1);
}

TEST_CASE("process faults name instances that exist - job names include instances") {
  const ScenarioLoad load = load_scenario_text(R"(name: s
environment: envs/inst.yaml
target: api
traffic:
  routes: [{name: a, request: GET /}]
fault_profiles:
  p:
    process:
      - {service: api#1, action: kill}
      - {service: api#5, action: kill}
      - {service: payment, action: pause}
phases:
  - {name: one, duration: 1s, faults: [p]}
assert:
  - 'during(one): metric.increase(http_requests_total{job="api#2"}) >= 0'
  - 'during(one): metric.increase(http_requests_total{job="api#3"}) >= 0'
)");
  CHECK_FALSE(load.ok());
  INFO(summary(load.diagnostics));
  const Diagnostic* range = find_error(load.diagnostics, "there is no api#5");
  REQUIRE(range);
  CHECK(range->message.find("service \"api\" has 3 instances (api#0..api#2)") != std::string::npos);
  CHECK(range->path == "fault_profiles.p.process[1].service");
  CHECK(range->loc.line == 10);
  CHECK(range->loc.column == 19);
  for (const auto& d : load.diagnostics) {
    CHECK(d.message.find("no api#1") == std::string::npos);
    CHECK(d.message.find("'api#2'") == std::string::npos);
  }
  const Diagnostic* job = find_error(load.diagnostics, "unknown service 'api#3'");
  REQUIRE(job);
  CHECK(job->loc.line == 16);
}

TEST_CASE("traffic and knobs need one address - a balancer gives traffic one") {
  const ScenarioLoad load = load_scenario_text(R"(name: s
environment: envs/inst.yaml
target: bare
traffic:
  routes: [{name: a, request: GET /}]
fault_profiles:
  p:
    knobs:
      payment: {x: 1}
phases:
  - {name: one, duration: 1s, faults: [p]}
)");
  CHECK_FALSE(load.ok());
  INFO(summary(load.diagnostics));
  const Diagnostic* target = find_error(load.diagnostics, "target \"bare\" runs 2 instances");
  REQUIRE(target);
  CHECK(target->path == "target");
  CHECK(target->hint.find("add balancer: nginx") != std::string::npos);
  const Diagnostic* knobs = find_error(load.diagnostics, "knobs reach one address");
  REQUIRE(knobs);
  CHECK(knobs->path == "fault_profiles.p.knobs.payment");

  const ScenarioLoad ok = load_scenario_text(R"(name: s
environment: envs/inst.yaml
target: api
traffic:
  routes: [{name: a, request: GET /}]
phases:
  - {name: one, duration: 1s}
)");
  CHECK_MESSAGE(ok.ok(), summary(ok.diagnostics));
}
