// `extends`: deep merge (child wins, lists replace), places kept per file, cycles named.
#include <doctest/doctest.h>

#include "spec_test_support.h"

using namespace faultline;
using faultline::testing::find_error;
using faultline::testing::MemoryWorld;
using faultline::testing::summary;

TEST_CASE("a child overrides mappings key by key and replaces lists") {
  MemoryWorld w =
      faultline::testing::world_with("specs/base.yaml", faultline::testing::kMinimalScenario);
  w.files["specs/child.yaml"] =
      "extends: base.yaml\n"
      "name: child\n"
      "traffic:\n"
      "  rate: 20/s\n"
      "phases:\n"
      "  - name: only\n"
      "    duration: 7s\n"
      "assert: []\n";
  const ScenarioLoad load = load_scenario("specs/child.yaml", w.options());
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  const Scenario& s = *load.scenario;
  CHECK(s.name == "child");
  CHECK(s.target == "api");               // inherited
  CHECK(s.traffic.rate_per_s == 20.0);    // overridden inside a mapping
  REQUIRE(s.traffic.routes.size() == 1);  // kept from the base
  CHECK(s.traffic.routes[0].name == "users");
  CHECK(s.traffic.routes[0].loc.file == "specs/base.yaml");
  REQUIRE(s.phases.size() == 1);  // the list is replaced, not merged
  CHECK(s.phases[0].name == "only");
  CHECK(s.phases[0].loc.file == "specs/child.yaml");
  CHECK(s.assertions.empty());
  CHECK(s.source_path == "specs/child.yaml");
}

TEST_CASE("problems in inherited values point into the base file") {
  MemoryWorld w = faultline::testing::world_with(
      "specs/base.yaml",
      std::string(faultline::testing::kMinimalScenario) + "observe:\n  interval: 1 sec\n");
  w.files["specs/child.yaml"] = "extends: base.yaml\nname: child\n";
  const ScenarioLoad load = load_scenario("specs/child.yaml", w.options());
  CHECK_FALSE(load.ok());
  const Diagnostic* d = find_error(load.diagnostics, "expected a duration");
  REQUIRE_MESSAGE(d, summary(load.diagnostics));
  CHECK(d->loc.file == "specs/base.yaml");
  CHECK(d->loc.line == 18);
  CHECK(d->loc.column == 13);
  CHECK(d->source_line == "  interval: 1 sec");
}

TEST_CASE("an extends cycle is an error naming the chain") {
  MemoryWorld w = faultline::testing::world_with("specs/a.yaml", "extends: b.yaml\nname: a\n");
  w.files["specs/b.yaml"] = "extends: lib/c.yaml\n";
  w.files["specs/lib/c.yaml"] = "extends: ../a.yaml\n";
  const ScenarioLoad load = load_scenario("specs/a.yaml", w.options());
  CHECK_FALSE(load.ok());
  const Diagnostic* d = find_error(load.diagnostics, "extends cycle");
  REQUIRE_MESSAGE(d, summary(load.diagnostics));
  CHECK(d->message ==
        "extends cycle: specs/a.yaml -> specs/b.yaml -> specs/lib/c.yaml -> specs/a.yaml");
  CHECK(d->loc.file == "specs/lib/c.yaml");
  CHECK(d->loc.line == 1);
  CHECK(d->loc.column == 10);

  MemoryWorld self = faultline::testing::world_with("s.yaml", "extends: s.yaml\n");
  CHECK(find_error(load_scenario("s.yaml", self.options()).diagnostics,
                   "extends cycle: s.yaml -> s.yaml"));
}

TEST_CASE("a missing base file is an error at extends") {
  MemoryWorld w = faultline::testing::world_with("specs/a.yaml", "extends: nope.yaml\nname: a\n");
  const ScenarioLoad load = load_scenario("specs/a.yaml", w.options());
  const Diagnostic* d = find_error(load.diagnostics, "cannot read specs/nope.yaml");
  REQUIRE_MESSAGE(d, summary(load.diagnostics));
  CHECK(d->loc.line == 1);
  CHECK(d->loc.column == 10);
}

TEST_CASE("environment is relative to the file that names it") {
  MemoryWorld w = faultline::testing::world_with(
      "specs/lib/base.yaml",
      std::string(faultline::testing::kMinimalScenario) + "environment: ../../envs/other.yaml\n");
  w.files["envs/other.yaml"] = faultline::testing::kTestEnvironment;
  w.files["specs/child.yaml"] = "extends: lib/base.yaml\n";
  const ScenarioLoad load = load_scenario("specs/child.yaml", w.options());
  REQUIRE_MESSAGE(load.ok(), summary(load.diagnostics));
  CHECK(load.scenario->environment == "envs/other.yaml");
  CHECK(load.environment->source_path == "envs/other.yaml");
}
