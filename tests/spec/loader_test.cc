// The model the loader builds, and the load-level rules (environment choice, empty files).
#include "spec/loader.h"

#include <doctest/doctest.h>

#include "spec_test_support.h"

using namespace faultline;
using faultline::testing::find_error;
using faultline::testing::MemoryWorld;
using faultline::testing::summary;

namespace {

const char* kFullScenario = R"(# yaml-language-server: $schema=../schemas/scenario.schema.json
version: 1
name: full
description: every field
seed: 9
target: api
traffic:
  rate: 50/s
  arrival: poisson
  timeout: 2s
  max_in_flight: 128
  routes:
    - name: users
      weight: 70
      request: GET /users/{user_id}?v={seq}
      headers:
        X-Tenant: t-{user_id}
        X-Version: 2
      vars:
        user_id: zipf(1000, 1.1)
    - name: orders
      weight: 30
      request: POST /orders
      body:
        user_id: "{user_id}"
        amount: "{amount}"
        seq: "{seq}"
        ref: "ord-{request_id}"
        id: "{request_id}"
        tier: "{tier}"
        items: [1, "{amount}", {deep: true}]
      vars:
        user_id: uniform(1, 1000)
        amount: sequence(100, 5)
        tier: choice([gold, "silver plus", 'x,y'])
    - name: raw
      request: PUT /raw
      body: '{"a": {seq}}'
fault_profiles:
  slow:
    description: slow payments
    knobs:
      payment: {payment_latency_ms_add: 1500, payment_latency_pct: 10}
  flaky:
    knobs:
      payment: {payment_fail_rate: 0.2, mode: "on", enabled: true}
phases:
  - name: warmup
    duration: 1m30s
  - name: trigger
    duration: 2.5s
    rate: 60/s
    faults:
      - slow
      - flaky
      - knobs: {api: {force_timeout: true}}
  - name: cooldown
    duration: 20s
    ramp: {from: 3000/m, to: 10}
observe:
  interval: 500ms
  targets: [api, {service: payment, path: /prom}]
  metrics: [http_request_duration_seconds]
  guard: {min_requests: 5, min_histogram_count: 7}
assert:
  - "during(trigger): p95(route=orders) > 800ms"
  - >-
    after(cooldown): p95 back to normal
tolerance: {relative: 30%, absolute: 0.01, baseline: warmup}
abort_if: ["overall: error_rate > 50%"]
compare: ["during(trigger): p95 improves by >= 30%"]
)";

}  // namespace

TEST_CASE("every field of a scenario lands in the model") {
  MemoryWorld w = faultline::testing::world_with("specs/full.yaml", kFullScenario);
  const ScenarioLoad load = load_scenario("specs/full.yaml", w.options());
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  CHECK(load.diagnostics.empty());
  const Scenario& s = *load.scenario;
  CHECK(s.version == 1);
  CHECK(s.name == "full");
  CHECK(s.description == "every field");
  CHECK(s.seed == 9);
  CHECK(s.target == "api");
  CHECK(s.environment == "envs/local.yaml");
  CHECK(s.source_path == "specs/full.yaml");

  CHECK(s.traffic.rate_per_s == 50.0);
  CHECK(s.traffic.arrival == ArrivalProcess::kPoisson);
  CHECK(s.traffic.timeout == std::chrono::seconds(2));
  CHECK(s.traffic.max_in_flight == 128);
  REQUIRE(s.traffic.routes.size() == 3);

  const RouteSpec& users = s.traffic.routes[0];
  CHECK(users.weight == 70.0);
  CHECK(users.method == "GET");
  CHECK(users.path_template == "/users/{user_id}?v={seq}");
  REQUIRE(users.header_templates.size() == 2);
  CHECK(users.header_templates[0] ==
        std::make_pair(std::string("X-Tenant"), std::string("t-{user_id}")));
  CHECK(users.header_templates[1].second == "2");
  REQUIRE(users.vars.size() == 1);
  CHECK(users.vars[0].name == "user_id");
  CHECK(users.vars[0].kind == VarSpec::Kind::kZipf);
  CHECK(users.vars[0].n == 1000);
  CHECK(users.vars[0].s == 1.1);
  CHECK(users.vars[0].loc.line == 20);
  CHECK(users.loc.line == 13);
  CHECK(users.body_template.empty());

  const RouteSpec& orders = s.traffic.routes[1];
  CHECK(orders.weight == 30.0);
  CHECK(orders.body_template ==
        R"({"user_id":{user_id},"amount":{amount},"seq":{seq},"ref":"ord-{request_id}",)"
        R"("id":"{request_id}","tier":"{tier}","items":[1,{amount},{"deep":true}]})");
  REQUIRE(orders.vars.size() == 3);
  CHECK(orders.vars[0].kind == VarSpec::Kind::kUniform);
  CHECK(orders.vars[0].lo == 1);
  CHECK(orders.vars[0].hi == 1000);
  CHECK(orders.vars[1].kind == VarSpec::Kind::kSequence);
  CHECK(orders.vars[1].start == 100);
  CHECK(orders.vars[1].step == 5);
  CHECK(orders.vars[2].kind == VarSpec::Kind::kChoice);
  CHECK(orders.vars[2].choices == std::vector<std::string>{"gold", "silver plus", "x,y"});
  CHECK(s.traffic.routes[2].weight == 1.0);
  CHECK(s.traffic.routes[2].body_template == R"({"a": {seq}})");  // text bodies are kept

  REQUIRE(s.fault_profiles.size() == 2);
  const FaultProfile* slow = s.find_profile("slow");
  REQUIRE(slow);
  REQUIRE(slow->knobs.size() == 2);
  CHECK(slow->knobs[0].service == "payment");
  CHECK(slow->knobs[0].knob == "payment_latency_ms_add");
  CHECK(slow->knobs[0].value_json == "1500");
  CHECK(slow->knobs[0].loc.line == 43);
  const FaultProfile* flaky = s.find_profile("flaky");
  REQUIRE(flaky);
  CHECK(flaky->knobs[0].value_json == "0.2");
  CHECK(flaky->knobs[1].value_json == "\"on\"");
  CHECK(flaky->knobs[2].value_json == "true");
  CHECK(s.find_profile("none") == nullptr);

  REQUIRE(s.phases.size() == 3);
  CHECK(s.phases[0].duration == std::chrono::seconds(90));
  CHECK_FALSE(s.phases[0].rate_per_s.has_value());
  const PhaseSpec* trigger = s.find_phase("trigger");
  REQUIRE(trigger);
  CHECK(trigger->duration == std::chrono::milliseconds(2500));
  CHECK(trigger->rate_per_s == 60.0);
  REQUIRE(trigger->faults.size() == 3);
  CHECK(trigger->faults[0].profile == "slow");
  CHECK(trigger->faults[1].profile == "flaky");
  CHECK(trigger->faults[0].schedule.whole_phase());
  CHECK(trigger->faults[2].profile.empty());
  REQUIRE(trigger->faults[2].inline_set.knobs.size() == 1);
  CHECK(trigger->faults[2].inline_set.knobs[0].service == "api");
  CHECK(trigger->faults[2].inline_set.knobs[0].value_json == "true");
  REQUIRE(s.phases[2].ramp.has_value());
  CHECK(s.phases[2].ramp->first == 50.0);
  CHECK(s.phases[2].ramp->second == 10.0);

  CHECK(s.observe.interval == std::chrono::milliseconds(500));
  REQUIRE(s.observe.targets.size() == 2);
  CHECK(s.observe.targets[0].service == "api");
  CHECK(s.observe.targets[0].path == "/metrics");
  CHECK(s.observe.targets[1].path == "/prom");
  CHECK(s.observe.metrics == std::vector<std::string>{"http_request_duration_seconds"});
  CHECK(s.observe.guard.min_requests == 5);
  CHECK(s.observe.guard.min_histogram_count == 7);

  REQUIRE(s.assertions.size() == 2);
  CHECK(s.assertions[0].text == "during(trigger): p95(route=orders) > 800ms");
  CHECK(s.assertions[0].loc.line == 66);
  CHECK(s.assertions[0].loc.column == 6);  // the first character inside the quotes
  CHECK(s.assertions[1].text == "after(cooldown): p95 back to normal");
  CHECK(s.assertions[1].loc.line == 68);
  CHECK(s.assertions[1].loc.column == 5);
  CHECK(s.tolerance.relative == doctest::Approx(0.3));
  CHECK(s.tolerance.absolute == 0.01);
  CHECK(s.tolerance.baseline_phase == "warmup");
  REQUIRE(s.abort_if.size() == 1);
  REQUIRE(s.compare.size() == 1);

  REQUIRE(load.environment.has_value());
  CHECK(load.environment->source_path == "envs/local.yaml");
}

TEST_CASE("defaults of optional fields") {
  MemoryWorld w = faultline::testing::world_with("s.yaml", faultline::testing::kMinimalScenario);
  const ScenarioLoad load = load_scenario("s.yaml", w.options());
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  const Scenario& s = *load.scenario;
  CHECK(s.version == 1);
  CHECK(s.seed == 1);
  CHECK(s.traffic.arrival == ArrivalProcess::kConstant);
  CHECK(s.traffic.timeout == std::chrono::seconds(5));
  CHECK(s.traffic.max_in_flight == 256);
  CHECK(s.traffic.routes[0].weight == 1.0);
  CHECK(s.observe.interval == std::chrono::seconds(1));
  CHECK(s.observe.targets.empty());
  CHECK(s.observe.guard.min_requests == 20);
  CHECK(s.tolerance.relative == 0.25);
  CHECK(s.tolerance.baseline_phase.empty());
}

TEST_CASE("the environment: --env, else the spec's own, else envs/local.yaml") {
  MemoryWorld w = faultline::testing::world_with("s.yaml", faultline::testing::kMinimalScenario);
  w.files["other/env.yaml"] = faultline::testing::kTestEnvironment;
  LoadOptions o = w.options();
  o.environment_file = "other/env.yaml";
  ScenarioLoad load = load_scenario("s.yaml", o);
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  CHECK(load.scenario->environment == "other/env.yaml");

  w.files["specs/named.yaml"] =
      std::string(faultline::testing::kMinimalScenario) + "environment: ../envs/local.yaml\n";
  load = load_scenario("specs/named.yaml", o);  // --env wins over the spec's own
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  CHECK(load.scenario->environment == "other/env.yaml");
  load = load_scenario("specs/named.yaml", w.options());  // without --env, the spec's own
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  CHECK(load.scenario->environment == "envs/local.yaml");

  w.files.erase("envs/local.yaml");
  load = load_scenario("s.yaml", w.options());
  CHECK_FALSE(load.ok());
  const Diagnostic* d =
      find_error(load.diagnostics, "cannot read environment file envs/local.yaml");
  REQUIRE_MESSAGE(d, summary(load.diagnostics));
  CHECK(d->hint.find("--env") != std::string::npos);
}

TEST_CASE("an empty file, a missing file, a non-YAML file") {
  MemoryWorld w = faultline::testing::world_with("e.yaml", "# only a comment\n");
  ScenarioLoad load = load_scenario("e.yaml", w.options());
  REQUIRE(load.diagnostics.size() == 1);
  CHECK(load.diagnostics[0].message == "the file is empty");
  CHECK(load.diagnostics[0].loc.line == 1);

  load = load_scenario("missing.yaml", w.options());
  REQUIRE(load.diagnostics.size() == 1);
  CHECK(load.diagnostics[0].message == "cannot read missing.yaml: No such file or directory");

  w.files["b.yaml"] = "{{{{";
  load = load_scenario("b.yaml", w.options());
  CHECK_FALSE(load.ok());
  CHECK(load.diagnostics.size() == 1);
}

TEST_CASE("load_scenario_text reads from memory") {
  MemoryWorld w;
  w.files["envs/local.yaml"] = faultline::testing::kTestEnvironment;
  const ScenarioLoad load =
      load_scenario_text(faultline::testing::kMinimalScenario, "virtual.yaml", w.options());
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  CHECK(load.scenario->source_path == "virtual.yaml");
}

TEST_CASE("every error is reported, not only the first") {
  MemoryWorld w = faultline::testing::world_with("s.yaml", R"(name: many
target: api
traffic:
  arival: poisson
  routes:
    - name: a
      request: GET /a
      weight: -1
phases:
  - name: p1
  - name: p2
    duration: 30 sec
  - duration: 1s
)");
  const ScenarioLoad load = load_scenario("s.yaml", w.options());
  CHECK_FALSE(load.ok());
  CHECK(find_error(load.diagnostics, "unknown field \"arival\""));
  CHECK(find_error(load.diagnostics, "expected a number greater than 0, got -1"));
  CHECK(find_error(load.diagnostics, "missing required field \"duration\""));
  CHECK(find_error(load.diagnostics, "expected a duration like \"30s\", got \"30 sec\""));
  CHECK(find_error(load.diagnostics, "missing required field \"name\""));
  CHECK(count_severity(load.diagnostics, "error") == 5);
  // In file order.
  for (size_t i = 1; i < load.diagnostics.size(); ++i) {
    CHECK(load.diagnostics[i - 1].loc.line <= load.diagnostics[i].loc.line);
  }
}

TEST_CASE("validate tells environment files from scenarios by their top-level keys") {
  MemoryWorld world;
  world.files = {
      {"env.yaml", faultline::testing::kTestEnvironment},
      {"scenario.yaml", faultline::testing::kMinimalScenario},
      {"flow.yaml", "{services: {api: {url: 'http://127.0.0.1:1'}}}"},
      {"both.yaml", "services: {}\nphases: []\n"},
      {"nested.yaml", "traffic:\n  services: {}\n"},
      {"list.yaml", "- services\n"},
      {"broken.yaml", "services: [\n"},
      // Keys that only the full read can see: a merge key and an alias as a key.
      {"merged.yaml", "x-base: &base\n  services: {}\n<<: *base\nname: e\n"},
      {"alias-key.yaml", "x-name: &k services\n*k : {}\n"},
      {"merged-phases.yaml", "x: &p\n  phases: []\nservices: {}\n<<: *p\n"},
      // The name spelled only through an escape.
      {"escaped.yaml", "\"\\x73ervices\": {}\n"},
  };
  const LoadOptions options = world.options();
  CHECK(looks_like_environment_file("env.yaml", options));
  CHECK_FALSE(looks_like_environment_file("scenario.yaml", options));
  CHECK(looks_like_environment_file("flow.yaml", options));
  CHECK_FALSE(looks_like_environment_file("both.yaml", options));
  CHECK_FALSE(looks_like_environment_file("nested.yaml", options));
  CHECK_FALSE(looks_like_environment_file("list.yaml", options));
  CHECK_FALSE(looks_like_environment_file("broken.yaml", options));
  CHECK_FALSE(looks_like_environment_file("missing.yaml", options));
  CHECK(looks_like_environment_file("merged.yaml", options));
  CHECK(looks_like_environment_file("alias-key.yaml", options));
  CHECK_FALSE(looks_like_environment_file("merged-phases.yaml", options));
  CHECK(looks_like_environment_file("escaped.yaml", options));
}
