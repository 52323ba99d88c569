// Whatever `faultline run` refuses, `faultline validate` refuses first, at file:line:col (issue
// 8, defect 8). Each case loads a file the way validate does and checks the place of the error;
// where run-time code refuses through a shared function (parse_url, which the service launcher
// calls; compile_plan and ArrivalStream, which run calls), the case calls that function too.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/error.h"
#include "net/allowlist.h"
#include "plan/arrival_stream.h"
#include "plan/compiler.h"
#include "spec_test_support.h"

using namespace faultline;
using faultline::testing::find_error;
using faultline::testing::MemoryWorld;
using faultline::testing::summary;
using faultline::testing::world_with;

namespace {

EnvironmentLoad load_env(const std::string& text) {
  MemoryWorld w;
  w.files["envs/e.yaml"] = text;
  return load_environment("envs/e.yaml", w.options());
}

// The minimal scenario with `from` replaced by `to` (which must occur once).
std::string scenario_with(const std::string& from, const std::string& to) {
  std::string s = faultline::testing::kMinimalScenario;
  const size_t at = s.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  return s.replace(at, from.size(), to);
}

struct BadUrl {
  std::string url;
  int column;           // of the offending part, in `    url: <url>` (the URL starts at 10)
  std::string message;  // part of the error
};

}  // namespace

TEST_CASE("service URLs run refuses are errors of validate at the offending part") {
  const std::vector<BadUrl> cases = {
      {"http://user:pw@127.0.0.1:1/", 17, "user info ('user:pw@') is not allowed"},
      {"http://user@127.0.0.1:1", 17, "user info ('user@') is not allowed"},
      // Names example.com, not loopback; today the port parse fails and validate says nothing.
      {"http://127.0.0.1:80@example.com/", 17, "user info ('127.0.0.1:80@') is not allowed"},
      {"http://127.0.0.1:1/#x", 29, "a fragment ('#x') is not allowed"},
      {"http://127.0.0.1:1#x", 28, "a fragment ('#x') is not allowed"},
      {"http://127.0.0.1:1/?a=1", 29, "a query ('?a=1') is not allowed"},
      {"http://127.0.0.1:99999", 27, "port \"99999\" is not a number from 1 to 65535"},
      {"http://127.0.0.1:8x", 27, "port \"8x\" is not a number from 1 to 65535"},
      {"http://[::1:8080", 17, "an IPv6 host is written in brackets"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.url);
    const EnvironmentLoad load = load_env("services:\n  api:\n    url: " + c.url + "\n");
    CHECK_FALSE(load.ok());
    const Diagnostic* d = find_error(load.diagnostics, c.message);
    REQUIRE_MESSAGE(d != nullptr, summary(load.diagnostics));
    CHECK(d->path == "services.api.url");
    CHECK(d->loc.file == "envs/e.yaml");
    CHECK(d->loc.line == 3);
    CHECK(d->loc.column == c.column);
    CHECK(d->hint.find("scheme://host[:port]") != std::string::npos);
    // The service launcher refuses a URL when parse_url does: the same function, same reason.
    UrlParts parts;
    UrlProblem problem;
    CHECK_FALSE(parse_url(c.url, &parts, &problem));
    CHECK(problem.message == d->message);
  }
}

TEST_CASE("URLs both validate and the launcher accept") {
  for (const std::string url : {"http://127.0.0.1:8080", "http://127.0.0.1:8080/base/",
                                "http://[::1]:9000", "http://localhost", "tcp://127.0.0.1:6379"}) {
    CAPTURE(url);
    const EnvironmentLoad load = load_env("services:\n  api:\n    url: \"" + url + "\"\n");
    CHECK_MESSAGE(load.ok(), summary(load.diagnostics));
    UrlParts parts;
    CHECK(parse_url(url, &parts));
  }
}

TEST_CASE("a scenario whose environment has a fragment URL is invalid, placed in the environment") {
  MemoryWorld w = world_with("specs/s.yaml", faultline::testing::kMinimalScenario);
  w.files["envs/local.yaml"] = "services:\n  api:\n    url: \"http://127.0.0.1:1/#x\"\n";
  const ScenarioLoad load = faultline::testing::load_text(w, "specs/s.yaml");
  CHECK_FALSE(load.ok());
  const Diagnostic* d = find_error(load.diagnostics, "a fragment ('#x') is not allowed");
  REQUIRE_MESSAGE(d != nullptr, summary(load.diagnostics));
  CHECK(d->loc.file == "envs/local.yaml");
  CHECK(d->loc.line == 3);
  CHECK(d->loc.column == 30);
}

TEST_CASE("paths appended to a service URL: '#', spaces and control characters are errors") {
  SUBCASE("a request line with '#' would be sent without its fragment") {
    MemoryWorld w =
        world_with("specs/s.yaml", scenario_with("GET /users/{id}", "GET /users/{id}#x"));
    const ScenarioLoad load = faultline::testing::load_text(w, "specs/s.yaml");
    const Diagnostic* d = find_error(load.diagnostics, "'#' starts a fragment");
    REQUIRE_MESSAGE(d != nullptr, summary(load.diagnostics));
    CHECK(d->path == "traffic.routes[0].request");
    CHECK(d->loc.line == 7);
    CHECK(d->loc.column == 31);  // `      request: GET /users/{id}#x`: the '#'
    CHECK(d->message.find("\"/users/{id}\" would be requested") != std::string::npos);
  }
  SUBCASE("a choice value with a space or '#' in the path") {
    for (const std::string value : {"'a b'", "'a#b'"}) {
      CAPTURE(value);
      MemoryWorld w = world_with(
          "specs/s.yaml", scenario_with("uniform(1, 100)", "\"choice([ok, " + value + "])\""));
      const ScenarioLoad load = faultline::testing::load_text(w, "specs/s.yaml");
      const Diagnostic* d = find_error(load.diagnostics, "cannot go in the path");
      REQUIRE_MESSAGE(d != nullptr, summary(load.diagnostics));
      CHECK(d->path == "traffic.routes[0].request");
      CHECK(d->loc.line == 7);
      CHECK(d->loc.column == 27);  // the placeholder {id}
      CHECK(d->length == 4);
      CHECK(d->hint.find("percent-encode") != std::string::npos);
    }
  }
  SUBCASE("choice values a path can carry are fine") {
    MemoryWorld w = world_with("specs/s.yaml",
                               scenario_with("uniform(1, 100)", "\"choice([a, 'b?x=1', c%20d])\""));
    const ScenarioLoad load = faultline::testing::load_text(w, "specs/s.yaml");
    CHECK_MESSAGE(load.ok(), summary(load.diagnostics));
  }
  SUBCASE("an observe target path") {
    MemoryWorld w = world_with(
        "specs/s.yaml", std::string(faultline::testing::kMinimalScenario) +
                            "observe:\n  targets:\n    - {service: api, path: \"/metrics#x\"}\n");
    const ScenarioLoad load = faultline::testing::load_text(w, "specs/s.yaml");
    const Diagnostic* d = find_error(load.diagnostics, "'#' starts a fragment");
    REQUIRE_MESSAGE(d != nullptr, summary(load.diagnostics));
    CHECK(d->path == "observe.targets[0].path");
    CHECK(d->loc.line == 19);
    CHECK(d->loc.column == 37);
  }
  SUBCASE("a readiness path") {
    const EnvironmentLoad load = load_env(
        "services:\n  api:\n    command: [x, \"{port}\"]\n    ready: {path: \"/ready z\"}\n");
    const Diagnostic* d = find_error(load.diagnostics, "a path cannot contain a space");
    REQUIRE_MESSAGE(d != nullptr, summary(load.diagnostics));
    CHECK(d->path == "services.api.ready.path");
    CHECK(d->loc.line == 4);
    CHECK(d->loc.column == 26);
  }
}

TEST_CASE("zipf with n beyond a table validates, compiles and draws ranks in range") {
  // Today: validate OK, then run fails with "internal error" (the table stopped at 10^7).
  MemoryWorld w =
      world_with("specs/s.yaml", scenario_with("uniform(1, 100)", "zipf(99999999, 1.1)"));
  const ScenarioLoad load = faultline::testing::load_text(w, "specs/s.yaml");
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  const Plan plan = compile_plan(*load.scenario, {});
  ArrivalStream stream(plan);
  int count = 0, rank1 = 0;
  uint64_t largest = 0;
  while (auto a = stream.next()) {
    REQUIRE(a->path.rfind("/users/", 0) == 0);
    const uint64_t rank = std::stoull(a->path.substr(7));
    CHECK(rank >= 1);
    CHECK(rank <= 99999999);
    rank1 += rank == 1;
    largest = std::max(largest, rank);
    ++count;
  }
  CHECK(count == 100);  // 10/s over 10 s
  // P(rank 1) = 1 / H(99999999, 1.1) = 0.1087: 100 draws give 2..25 ones at the 1e-4 level.
  CHECK(rank1 >= 2);
  CHECK(rank1 <= 25);
  // P(rank > 10^7) = 0.052 per draw; 100 draws without one would be 0.5% likely. The seed is
  // fixed, so this pins that the tail beyond any table is drawn at all.
  CHECK(largest > 10'000'000);
}

TEST_CASE("zipf n beyond what a number holds is an error at the number") {
  MemoryWorld w = world_with("specs/s.yaml",
                             scenario_with("uniform(1, 100)", "zipf(99999999999999999999, 1.1)"));
  const ScenarioLoad load = faultline::testing::load_text(w, "specs/s.yaml");
  const Diagnostic* d = find_error(load.diagnostics, "n must be a whole number from 1 to");
  REQUIRE_MESSAGE(d != nullptr, summary(load.diagnostics));
  CHECK(d->loc.line == 9);
  CHECK(d->loc.column == 18);
}

TEST_CASE("max_in_flight beyond an int is an error, not the default in disguise") {
  MemoryWorld w =
      world_with("specs/s.yaml",
                 scenario_with("  rate: 10/s\n", "  rate: 10/s\n  max_in_flight: 3000000000\n"));
  const ScenarioLoad load = faultline::testing::load_text(w, "specs/s.yaml");
  const Diagnostic* d =
      find_error(load.diagnostics, "expected a whole number from 1 to 2147483647, got 3000000000");
  REQUIRE_MESSAGE(d != nullptr, summary(load.diagnostics));
  CHECK(d->path == "traffic.max_in_flight");
  CHECK(d->loc.line == 5);
  CHECK(d->loc.column == 18);
}

TEST_CASE("more scrape rounds than a run keeps: validate places it, the compiler refuses it") {
  SUBCASE("observe.interval written: the error is there") {
    MemoryWorld w = world_with("specs/s.yaml", std::string(faultline::testing::kMinimalScenario) +
                                                   "observe:\n  interval: 50us\n");
    const ScenarioLoad load = faultline::testing::load_text(w, "specs/s.yaml");
    const Diagnostic* d = find_error(load.diagnostics, "scrape rounds, more than a run keeps");
    REQUIRE_MESSAGE(d != nullptr, summary(load.diagnostics));
    CHECK(d->path == "observe.interval");
    CHECK(d->loc.line == 18);
    CHECK(d->loc.column == 13);
    CHECK(d->message ==
          "scraping every 50us over 10s of phases makes 200001 scrape rounds, more "
          "than a run keeps (100000)");
    CHECK(d->hint == "raise observe.interval to at least 1ms, or shorten the phases");
  }
  SUBCASE("default interval: the error is at the longest phase") {
    MemoryWorld w =
        world_with("specs/s.yaml", scenario_with("duration: 5s\nassert", "duration: 28h\nassert"));
    const ScenarioLoad load = faultline::testing::load_text(w, "specs/s.yaml");
    const Diagnostic* d = find_error(load.diagnostics, "scrape rounds, more than a run keeps");
    REQUIRE_MESSAGE(d != nullptr, summary(load.diagnostics));
    CHECK(d->path == "phases[1].duration");
    CHECK(d->loc.line == 14);
  }
  SUBCASE("at the limit it compiles; --duration past it is refused before the plan grows") {
    // 10s of phases every 100us: 100001 rounds, one over; every 101us: 99010.
    MemoryWorld w = world_with("specs/s.yaml", std::string(faultline::testing::kMinimalScenario) +
                                                   "observe:\n  interval: 101us\n");
    const ScenarioLoad load = faultline::testing::load_text(w, "specs/s.yaml");
    REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
    const Plan plan = compile_plan(*load.scenario, {});
    CHECK(plan.scrape_ticks.size() >= 99010);
    CHECK(plan.scrape_ticks.size() <= 99010 + plan.phases.size());
    PlanOverrides longer;
    longer.duration = std::chrono::seconds(11);
    CHECK_THROWS_AS(compile_plan(*load.scenario, longer), UsageError);
  }
}
