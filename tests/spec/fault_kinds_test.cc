// Fault kinds beyond knobs (process, proxy, exec), the environment's proxies, and schedules
// inside a phase: from YAML through validation to the plan's fault timeline and back through
// plan JSON. The timeline is the contract with the fault drivers, so its steps are checked
// one by one.
#include <doctest/doctest.h>

#include "common/error.h"
#include "plan/compiler.h"
#include "plan/plan_json.h"
#include "spec_test_support.h"

using namespace faultline;
using namespace faultline::testing;
using namespace std::chrono_literals;

namespace {

const char* kProxyEnvironment = R"(services:
  redis:
    command: [redis-server, --port, "{port}"]
    protocol: tcp
  worker:
    command: [demo, --role, worker, --port, "{port}", --redis, "{redis_proxy.host}:{redis_proxy.port}"]
  api:
    command: [demo, --role, api, --port, "{port}", --redis, "{redis_proxy.host}:{redis_proxy.port}"]
    faults: true
proxies:
  redis_proxy:
    to: redis
)";

const char* kScenario = R"(name: kinds
target: api
traffic:
  rate: 10/s
  routes: [{name: x, request: GET /}]
fault_profiles:
  crash:
    process:
      - {service: worker, action: kill, restart_after: 2s, restarts: 3}
  slow:
    proxy:
      - {proxy: redis_proxy, toxic: latency, latency: 100ms, jitter: 10ms, toxicity: 0.5}
      - {proxy: redis_proxy, toxic: slicer, name: cut, average_size: 64, size_variation: 8, delay: 50us, direction: upstream}
  drain:
    exec:
      - {name: cordon, run: [kubectl, cordon, n1], undo: [kubectl, uncordon, n1], timeout: 10s}
phases:
  - name: warmup
    duration: 10s
  - name: trigger
    duration: 30s
    faults:
      - {profile: crash, at: 5s}
      - {profile: slow, every: 10s, for: 4s}
      - drain
  - name: cooldown
    duration: 10s
)";

Plan compile(const std::string& env, const std::string& scenario) {
  MemoryWorld w;
  w.files["envs/local.yaml"] = env;
  w.files["s.yaml"] = scenario;
  const ScenarioLoad load = load_text(w, "s.yaml");
  INFO(summary(load.diagnostics));
  REQUIRE(load.ok());
  return compile_plan(*load.scenario, {});
}

std::string step_text(const FaultStep& f) {
  return format_duration(f.at) + " " + f.phase + " " + f.kind + " " + f.target + " " + f.state_json;
}

}  // namespace

TEST_CASE("the environment's proxies are services of their own, in front of their target") {
  MemoryWorld w;
  w.files["envs/local.yaml"] = kProxyEnvironment;
  w.files["s.yaml"] = kScenario;
  const ScenarioLoad load = load_text(w, "s.yaml");
  INFO(summary(load.diagnostics));
  REQUIRE(load.ok());
  const ServiceSpec* proxy = load.environment->find("redis_proxy");
  REQUIRE(proxy);
  CHECK(proxy->proxy_of == "redis");
  CHECK(proxy->protocol == "tcp");
  CHECK(proxy->depends_on == std::vector<std::string>{"redis"});
  // The api reaches redis through the proxy, so it starts after it.
  const ServiceSpec* api = load.environment->find("api");
  REQUIRE(api);
  CHECK(std::find(api->depends_on.begin(), api->depends_on.end(), "redis_proxy") !=
        api->depends_on.end());
}

TEST_CASE("process, proxy and exec faults with schedules compile into a step-by-step timeline") {
  const Plan plan = compile(kProxyEnvironment, kScenario);
  std::vector<std::string> steps;
  for (const auto& f : plan.fault_steps) steps.push_back(step_text(f));
  const std::string slow =
      R"({"toxics":[{"name":"cut","type":"slicer","direction":"upstream","toxicity":1.0,)"
      R"("average_size":64,"delay_us":50,"size_variation":8},)"
      R"({"name":"latency","type":"latency","direction":"downstream","toxicity":0.5,)"
      R"("jitter_ms":10,"latency_ms":100}]})";
  const std::string drain =
      R"({"run":["kubectl","cordon","n1"],"undo":["kubectl","uncordon","n1"],"shell":false,)"
      R"("timeout_us":10000000})";
  const std::vector<std::string> expected = {
      // trigger starts at 10s: the exec hook (whole phase) and the first flap of the proxy.
      "10s trigger exec cordon " + drain,
      "10s trigger proxy redis_proxy " + slow,
      "14s trigger proxy redis_proxy {}",
      // crash at 5 s into the phase, held to its end.
      R"(15s trigger process worker {"action":"kill","restart_after_us":2000000,"restarts":3})",
      "20s trigger proxy redis_proxy " + slow,
      "24s trigger proxy redis_proxy {}",
      "30s trigger proxy redis_proxy " + slow,
      "34s trigger proxy redis_proxy {}",
      // cooldown lifts what the phase held.
      "40s cooldown exec cordon {}",
      "40s cooldown process worker {}",
  };
  CHECK(steps == expected);
  CHECK(fault_step_service(plan.fault_steps[1]) == "redis_proxy");
  CHECK(fault_step_service(plan.fault_steps[3]) == "worker");
  CHECK(fault_step_service(plan.fault_steps[0]).empty());
}

TEST_CASE("plan JSON keeps every fault kind, and knob-only plans keep their old form") {
  const Plan plan = compile(kProxyEnvironment, kScenario);
  const Plan back = plan_from_json(plan_to_json(plan, 0, true));
  REQUIRE(back.fault_steps.size() == plan.fault_steps.size());
  for (size_t i = 0; i < plan.fault_steps.size(); ++i)
    CHECK(step_text(back.fault_steps[i]) == step_text(plan.fault_steps[i]));
  CHECK(back.plan_hash == plan.plan_hash);
  const std::string json = plan_to_json(plan, 0, true);
  CHECK(json.find(R"("kind": "process")") != std::string::npos);

  // A knob step is written as before there were kinds ("service", "knobs"), so the hashes of
  // existing plans and recorded bundles did not change.
  const Plan knobs = compile(kTestEnvironment, R"(name: k
target: api
traffic:
  routes: [{name: x, request: GET /}]
phases:
  - name: p
    duration: 2s
    faults: [{knobs: {api: {force_timeout: true}}}]
)");
  const std::string kj = plan_to_json(knobs, 0, true);
  CHECK(kj.find(R"("service": "api")") != std::string::npos);
  CHECK(kj.find(R"("knobs": {)") != std::string::npos);
  CHECK(kj.find(R"("kind")") == std::string::npos);
}

TEST_CASE("later entries win per knob, per process target and per toxic name") {
  const Plan plan = compile(kProxyEnvironment, R"(name: overlap
target: api
traffic:
  routes: [{name: x, request: GET /}]
fault_profiles:
  pause_worker: {process: [{service: worker, action: pause}]}
phases:
  - name: p
    duration: 10s
    faults:
      - pause_worker
      - {process: [{service: worker, action: terminate, grace: 1s}], at: 2s, for: 3s}
      - {proxy: [{proxy: redis_proxy, toxic: down}], at: 4s}
)");
  std::vector<std::string> steps;
  for (const auto& f : plan.fault_steps) steps.push_back(step_text(f));
  const std::vector<std::string> expected = {
      R"(0s p process worker {"action":"pause"})",
      R"(2s p process worker {"action":"terminate","grace_us":1000000})",
      R"(4s p proxy redis_proxy {"toxics":[{"name":"down","type":"down","direction":"downstream","toxicity":1.0}]})",
      // The terminate's `for` ends: the whole-phase pause is what remains.
      R"(5s p process worker {"action":"pause"})",
      "10s  process worker {}",
      "10s  proxy redis_proxy {}",
  };
  CHECK(steps == expected);
}

TEST_CASE("a schedule that turns faults on too often is refused by the compiler too") {
  // validate refuses `every` over the limit at its place; a plan read from elsewhere or a
  // scenario built in code still cannot make millions of steps.
  Scenario s;
  s.name = "x";
  s.target = "api";
  s.traffic.routes.push_back(RouteSpec{"r", 1.0, "GET", "/", {}, "", {}, {}});
  FaultProfile f;
  f.name = "f";
  f.knobs.push_back({"api", "k", "1", {}});
  s.fault_profiles.push_back(f);
  PhaseFault use;
  use.profile = "f";
  use.schedule.hold = 1ms;
  use.schedule.every = 2ms;
  s.phases.push_back(PhaseSpec{"p", 60s, std::nullopt, std::nullopt, {use}, {}});
  CHECK_THROWS_WITH_AS(compile_plan(s, {}), doctest::Contains("more than 10000 times"), UsageError);
}

TEST_CASE("levers compile into steps of their own kind, lifted like knobs") {
  // A knob fault for the whole trigger, and a lever pulled 5 s into it (the mitigation).
  const char* scenario = R"(name: lever
target: api
traffic:
  routes: [{name: x, request: GET /}]
fault_profiles:
  slow: {knobs: {payment: {payment_latency_ms_add: 800}}}
  mitigate: {levers: {api: {payment_timeout_ms: 200, payment_kill_switch: true}}}
phases:
  - name: warmup
    duration: 5s
  - name: trigger
    duration: 20s
    faults: [slow, {profile: mitigate, at: 5s}]
  - name: cooldown
    duration: 5s
)";
  const Plan plan = compile(kTestEnvironment, scenario);
  std::vector<std::string> steps;
  for (const auto& f : plan.fault_steps) steps.push_back(step_text(f));
  const std::vector<std::string> expected = {
      R"(5s trigger knobs payment {"payment_latency_ms_add":800})",
      R"(10s trigger levers api {"payment_kill_switch":true,"payment_timeout_ms":200})",
      "25s cooldown knobs payment {}",
      "25s cooldown levers api {}",
  };
  CHECK(steps == expected);
  CHECK(fault_step_service(plan.fault_steps[1]) == "api");

  // Plan JSON keeps the kind; the knob steps keep their old form.
  const std::string json = plan_to_json(plan, 0, true);
  CHECK(json.find(R"("kind": "levers")") != std::string::npos);
  const Plan back = plan_from_json(json);
  REQUIRE(back.fault_steps.size() == plan.fault_steps.size());
  for (size_t i = 0; i < plan.fault_steps.size(); ++i)
    CHECK(step_text(back.fault_steps[i]) == step_text(plan.fault_steps[i]));
  CHECK(back.plan_hash == plan.plan_hash);
}

TEST_CASE("levers need a service that takes faults, like knobs") {
  MemoryWorld w;
  w.files["envs/local.yaml"] = R"(services:
  api:
    command: [demo, --role, api, --port, "{port}"]
)";
  w.files["s.yaml"] = R"(name: lever
target: api
traffic:
  routes: [{name: x, request: GET /}]
phases:
  - name: p
    duration: 2s
    faults: [{levers: {api: {payment_retries: 0}}}]
)";
  const ScenarioLoad load = load_text(w, "s.yaml");
  CHECK_FALSE(load.ok());
  INFO(summary(load.diagnostics));
  CHECK(summary(load.diagnostics).find("s.yaml:8:") != std::string::npos);
  CHECK(summary(load.diagnostics).find("faults: true") != std::string::npos);
}

TEST_CASE("observe.targets: absent scrapes the target, [] scrapes nothing, a list scrapes it") {
  const std::string env =
      "services:\n  api:\n    url: http://127.0.0.1:9\n"
      "  worker:\n    url: http://127.0.0.1:10\n";
  const std::string head =
      "version: 1\nname: t\ntarget: api\ntraffic:\n  routes:\n"
      "    - {name: r, request: GET /}\nphases:\n  - {name: p, duration: 5s}\n";
  const Plan absent = compile(env, head);
  REQUIRE(absent.scrape_targets.size() == 1);
  CHECK(absent.scrape_targets[0].service == "api");
  CHECK(compile(env, head + "observe:\n  targets: []\n").scrape_targets.empty());
  const Plan listed = compile(env, head + "observe:\n  targets: [worker]\n");
  REQUIRE(listed.scrape_targets.size() == 1);
  CHECK(listed.scrape_targets[0].service == "worker");
}
