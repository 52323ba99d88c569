// Environment files: services, placeholders, dependencies, the allow list.
#include "net/allowlist.h"
#include "spec/environment_builder.h"

#include <doctest/doctest.h>

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

}  // namespace

TEST_CASE("services: url or command, readiness, faults, implied dependencies") {
  const EnvironmentLoad load = load_env(R"(name: test
allow: [127.0.0.0/8, "::1", localhost, 10.1.0.0/16, db.internal]
services:
  db:
    url: http://db.internal:5432
    protocol: tcp
  redis:
    command: redis-server --port {port} --save "" --bind '127.0.0.1'
    protocol: tcp
    ready: {timeout: 3s}
  api:
    command: [demo, --port, "{port}", --redis, "{redis.host}:{redis.port}", --workers, 4, --ratio, 1.50]
    env: {DB_URL: "{db.url}", RETRIES: 2}
    depends_on: [db]
    ready: {path: /healthz}
    faults: true
    fault_token: secret
  remote:
    url: http://10.1.2.3:80/base
)");
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  const Environment& env = *load.environment;
  CHECK(env.name == "test");
  CHECK(env.allow.size() == 5);
  REQUIRE(env.services.size() == 4);
  const ServiceSpec* redis = env.find("redis");
  REQUIRE(redis);
  CHECK(redis->command == std::vector<std::string>{"redis-server", "--port", "{port}", "--save", "",
                                                   "--bind", "127.0.0.1"});
  CHECK(redis->protocol == "tcp");
  CHECK(redis->ready_timeout == std::chrono::seconds(3));
  CHECK(redis->loc.line == 7);
  const ServiceSpec* api = env.find("api");
  REQUIRE(api);
  CHECK(api->command == std::vector<std::string>{"demo", "--port", "{port}", "--redis",
                                                 "{redis.host}:{redis.port}", "--workers", "4",
                                                 "--ratio", "1.50"});
  CHECK(api->env.at("DB_URL") == "{db.url}");
  CHECK(api->env.at("RETRIES") == "2");
  CHECK(api->depends_on == std::vector<std::string>{"db", "redis"});
  CHECK(api->ready_path == "/healthz");
  CHECK(api->ready_timeout == std::chrono::seconds(15));
  CHECK(api->faults);
  CHECK(api->fault_token == "secret");
  CHECK(env.find("db")->url == "http://db.internal:5432");
  CHECK_FALSE(env.find("db")->faults);
  CHECK(env.find("nope") == nullptr);
}

TEST_CASE("the environment name defaults to the file name - allow defaults to loopback") {
  const EnvironmentLoad load = load_env("services:\n  a: {url: \"http://127.0.0.1:1\"}\n");
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  CHECK(load.environment->name == "e");
  CHECK(load.environment->allow == std::vector<std::string>{"127.0.0.0/8", "::1", "localhost"});
}

TEST_CASE("a service needs exactly one of url and command") {
  EnvironmentLoad load = load_env("services:\n  a: {faults: true}\n");
  const Diagnostic* d = find_error(load.diagnostics, "needs one of url or command");
  REQUIRE_MESSAGE(d, summary(load.diagnostics));
  CHECK(d->path == "services.a");
  CHECK(d->loc.line == 2);
  CHECK(d->loc.column == 3);
  load = load_env("services:\n  a: {url: \"http://127.0.0.1:1\", command: [x]}\n");
  CHECK(find_error(load.diagnostics, "set only one of url, command"));
}

TEST_CASE("placeholders name known services and attributes") {
  const EnvironmentLoad load = load_env(R"(services:
  redis:
    command: [redis-server, --port, "{port}"]
  api:
    command: [demo, "{redis.prt}", "{rediss.port}", "{porrt}", "{redis}"]
  ext:
    url: http://127.0.0.1:9
    env: {P: "{port}"}
)");
  CHECK_FALSE(load.ok());
  const Diagnostic* attr = find_error(load.diagnostics, "unknown placeholder attribute .prt");
  REQUIRE_MESSAGE(attr, summary(load.diagnostics));
  CHECK(attr->hint == "did you mean {redis.port}?");
  CHECK(attr->loc.line == 5);
  CHECK(attr->loc.column == 22);
  CHECK(attr->length == 11);
  const Diagnostic* svc = find_error(load.diagnostics, "unknown service \"rediss\"");
  REQUIRE(svc);
  CHECK(svc->hint == "did you mean redis?");
  CHECK(find_error(load.diagnostics, "unknown placeholder {porrt}"));
  const Diagnostic* bare = find_error(load.diagnostics, "unknown placeholder {redis}");
  REQUIRE(bare);
  CHECK(bare->hint == "did you mean {redis.port} or {redis.url}?");
  CHECK(find_error(load.diagnostics, "{port} is only known for services faultline starts"));
}

TEST_CASE("dependency cycles are errors naming the chain") {
  const EnvironmentLoad load = load_env(R"(services:
  a:
    command: [x, "{b.port}"]
  b:
    command: [x, "{port}"]
    depends_on: [c]
  c:
    command: [x, "{a.url}"]
  d:
    command: [x]
    depends_on: [e]
)");
  CHECK_FALSE(load.ok());
  const Diagnostic* d = find_error(load.diagnostics, "cycle");
  REQUIRE_MESSAGE(d, summary(load.diagnostics));
  CHECK(d->message == "services depend on each other in a cycle: a -> b -> c -> a");
  CHECK(d->loc.line == 8);
  const Diagnostic* unknown = find_error(load.diagnostics, "unknown service \"e\"");
  REQUIRE(unknown);
  CHECK(unknown->path == "services.d.depends_on[0]");
}

TEST_CASE("URL hosts must be in the allow list - allow entries must be addresses") {
  const EnvironmentLoad load = load_env(R"(allow: [127.0.0.0/8, 300.1.1.1, "10.0.0.0/33", ok-host]
services:
  a: {url: "http://10.0.0.1:80"}
  b: {url: "http://[::1]:80"}
  c: {url: "http://OK-HOST:1/x"}
  d: {url: "http://127.9.9.9"}
)");
  CHECK_FALSE(load.ok());
  const Diagnostic* host = find_error(load.diagnostics, "host 10.0.0.1 is not in");
  REQUIRE_MESSAGE(host, summary(load.diagnostics));
  CHECK(host->path == "services.a.url");
  CHECK(find_error(load.diagnostics, "host ::1 is not in"));  // ::1 is not listed here
  CHECK(find_error(load.diagnostics, "\"300.1.1.1\" is not an address"));
  CHECK(find_error(load.diagnostics, "\"10.0.0.0/33\" is not an address"));
  CHECK(count_severity(load.diagnostics, "error") == 4);
}

TEST_CASE("host_allowed and split_command_line") {
  const std::vector<std::string> allow{"127.0.0.0/8", "::1", "localhost", "10.2.0.0/16"};
  CHECK(host_allowed("127.0.0.1", allow));
  CHECK(host_allowed("127.255.1.2", allow));
  CHECK(host_allowed("LOCALHOST", allow));
  CHECK(host_allowed("0:0:0:0:0:0:0:1", allow));
  CHECK(host_allowed("10.2.200.1", allow));
  CHECK_FALSE(host_allowed("10.3.0.1", allow));
  CHECK_FALSE(host_allowed("example.com", allow));
  CHECK_FALSE(host_allowed("128.0.0.1", allow));

  std::vector<std::string> argv;
  size_t bad = 0;
  CHECK(split_command_line(R"(a  "b c" 'd "e"' f\ g "h\"i" "")", argv, bad));
  CHECK(argv == std::vector<std::string>{"a", "b c", "d \"e\"", "f g", "h\"i", ""});
  CHECK_FALSE(split_command_line("a 'b", argv, bad));
  CHECK(bad == 2);
}

TEST_CASE("find_service_placeholders") {
  const auto ps = find_service_placeholders("--x={port} {a-b.url}:{c.host} {} {.x} {d.} {{e}}");
  REQUIRE(ps.size() == 4);
  CHECK(ps[0].service.empty());
  CHECK(ps[0].attribute == "port");
  CHECK(ps[0].offset == 4);
  CHECK(ps[0].length == 6);
  CHECK(ps[1].service == "a-b");
  CHECK(ps[1].attribute == "url");
  CHECK(ps[2].service == "c");
  CHECK(ps[3].attribute == "e");
}

TEST_CASE("scenario checks against the environment") {
  MemoryWorld w = faultline::testing::world_with("s.yaml", R"(name: s
target: redis
traffic:
  routes: [{name: a, request: GET /}]
fault_profiles:
  p:
    knobs:
      redis: {x: 1}
      paymnt: {y: 2}
phases:
  - {name: one, duration: 1s, faults: [p]}
observe:
  targets: [api, {service: wrker}]
)");
  const ScenarioLoad load = load_scenario("s.yaml", w.options());
  CHECK_FALSE(load.ok());
  const Diagnostic* t = find_error(load.diagnostics, "target \"redis\" speaks tcp, not http");
  REQUIRE_MESSAGE(t, summary(load.diagnostics));
  CHECK(t->path == "target");
  const Diagnostic* f = find_error(load.diagnostics, "does not take fault knobs");
  REQUIRE(f);
  CHECK(f->path == "fault_profiles.p.knobs.redis");
  CHECK(f->loc.line == 8);
  CHECK(f->loc.column == 7);
  const Diagnostic* k = find_error(load.diagnostics, "unknown service \"paymnt\"");
  REQUIRE(k);
  CHECK(k->hint == "did you mean \"payment\"?");
  const Diagnostic* o = find_error(load.diagnostics, "unknown service \"wrker\"");
  REQUIRE(o);
  CHECK(o->path == "observe.targets[1].service");
}

TEST_CASE("observe: scrape by default, or a Prometheus server on an allowed host") {
  EnvironmentLoad load = load_env("services:\n  a: {url: \"http://127.0.0.1:1\"}\n");
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  CHECK_FALSE(load.environment->observe.prometheus());

  load = load_env(R"(services:
  a: {url: "http://127.0.0.1:1"}
observe:
  source: prometheus
  url: http://127.0.0.1:9090
  match: 'service="{service}",namespace="{service}-ns"'
  wait: 5s
)");
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  const ObserveSource& o = load.environment->observe;
  CHECK(o.prometheus());
  CHECK(o.url == "http://127.0.0.1:9090");
  CHECK(o.wait == std::chrono::seconds(5));
  CHECK(o.matchers_for("api") == "service=\"api\",namespace=\"api-ns\"");
  CHECK(ObserveSource{}.matchers_for("payment") == "job=\"payment\"");
}

TEST_CASE("observe: what is wrong with a Prometheus source, where it is written") {
  const std::string services = "services:\n  a: {url: \"http://127.0.0.1:1\"}\n";
  EnvironmentLoad load = load_env(services + "observe:\n  source: prometheus\n");
  const Diagnostic* d = find_error(load.diagnostics, "source: prometheus needs the url");
  REQUIRE_MESSAGE(d, summary(load.diagnostics));
  CHECK(d->loc.line == 3);

  load = load_env(services + "observe:\n  source: prometheus\n  url: http://10.0.0.5:9090\n");
  d = find_error(load.diagnostics, "host 10.0.0.5 is not in the environment's allow list");
  REQUIRE_MESSAGE(d, summary(load.diagnostics));
  CHECK(d->loc.line == 5);

  load = load_env(
      services +
      "observe:\n  source: prometheus\n  url: http://127.0.0.1:9\n  match: '{job=\"x\"}'\n");
  CHECK_MESSAGE(find_error(load.diagnostics, "without the surrounding braces"),
                summary(load.diagnostics));

  load = load_env(services + "observe:\n  url: http://127.0.0.1:9090\n");
  CHECK_MESSAGE(find_error(load.diagnostics, "url is only used with source: prometheus"),
                summary(load.diagnostics));

  load = load_env(services + "observe:\n  source: graphite\n");
  CHECK_FALSE(load.ok());  // the schema's enum
}

TEST_CASE("observe: service names a Prometheus the environment starts") {
  const std::string services =
      "services:\n  a: {url: \"http://127.0.0.1:1\"}\n  prom: {command: [prometheus]}\n";
  EnvironmentLoad load = load_env(services + "observe:\n  source: prometheus\n  service: prom\n");
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  CHECK(load.environment->observe.service == "prom");
  CHECK(load.environment->observe.url.empty());

  load = load_env(services + "observe:\n  source: prometheus\n  service: promm\n");
  CHECK_MESSAGE(find_error(load.diagnostics, "promm"), summary(load.diagnostics));
  load = load_env(services +
                  "observe:\n  source: prometheus\n  service: prom\n  url: http://127.0.0.1:9\n");
  CHECK_MESSAGE(find_error(load.diagnostics, "give either url or service, not both"),
                summary(load.diagnostics));
  load = load_env(services + "observe:\n  service: prom\n");
  CHECK_MESSAGE(find_error(load.diagnostics, "service is only used with source: prometheus"),
                summary(load.diagnostics));
}
