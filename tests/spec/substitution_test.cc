// ${VAR} substitution and where its values come from (--set over the process environment).
#include "spec/variable_substitution.h"

#include <doctest/doctest.h>

#include "spec_test_support.h"

using namespace faultline;
using faultline::testing::MemoryWorld;

namespace {

VariableLookup vars(std::map<std::string, std::string> m) {
  return [m](const std::string& n) -> std::optional<std::string> {
    const auto it = m.find(n);
    return it == m.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
}

}  // namespace

TEST_CASE("substitute_variables: values, defaults, escapes, problems") {
  const auto lookup = vars({{"A", "1"}, {"EMPTY", ""}});
  CHECK(substitute_variables("x${A}y", lookup).text == "x1y");
  CHECK(substitute_variables("${B:-dflt}", lookup).text == "dflt");
  CHECK(substitute_variables("${EMPTY:-dflt}", lookup).text == "dflt");
  CHECK(substitute_variables("${EMPTY}", lookup).text.empty());
  CHECK(substitute_variables("${EMPTY}", lookup).problems.empty());
  CHECK(substitute_variables("$${A}", lookup).text == "${A}");
  CHECK(substitute_variables("cost: $5", lookup).text == "cost: $5");
  CHECK_FALSE(substitute_variables("cost: $5", lookup).changed);
  CHECK(substitute_variables("${A:-a:-b}", lookup).text == "1");
  CHECK(substitute_variables("${B:-a:-b}", lookup).text == "a:-b");

  const auto missing = substitute_variables("ab ${NOPE} ${ALSO}", lookup);
  REQUIRE(missing.problems.size() == 2);
  CHECK(missing.problems[0].offset == 3);
  CHECK(missing.problems[0].length == 7);
  CHECK(missing.problems[0].message == "variable NOPE is not set");
  CHECK(missing.problems[1].offset == 11);

  const auto bad = substitute_variables("${1X} ${", lookup);
  REQUIRE(bad.problems.size() == 2);
  CHECK(bad.problems[0].message.find("not a variable name") != std::string::npos);
  CHECK(bad.problems[1].message.find("unterminated") != std::string::npos);
  CHECK(bad.problems[1].offset == 6);
}

TEST_CASE("--set wins over the process environment, which wins over defaults") {
  const std::string spec = std::string(faultline::testing::kMinimalScenario) +
                           "seed: ${SEED:-5}\ndescription: ${WHO:-nobody}\n";
  MemoryWorld w = faultline::testing::world_with("s.yaml", spec);
  {
    const ScenarioLoad load = load_scenario("s.yaml", w.options());
    REQUIRE_MESSAGE(load.ok(), faultline::testing::summary(load.diagnostics));
    CHECK(load.scenario->seed == 5);
    CHECK(load.scenario->description == "nobody");
  }
  w.env["SEED"] = "77";
  w.env["WHO"] = "env";
  {
    const ScenarioLoad load = load_scenario("s.yaml", w.options());
    REQUIRE(load.ok());
    CHECK(load.scenario->seed == 77);
    CHECK(load.scenario->description == "env");
  }
  LoadOptions o = w.options();
  o.variables["SEED"] = "99";
  const ScenarioLoad load = load_scenario("s.yaml", o);
  REQUIRE(load.ok());
  CHECK(load.scenario->seed == 99);
  CHECK(load.scenario->description == "env");
}

TEST_CASE("a missing variable without default fails the load at its place") {
  const std::string spec =
      std::string(faultline::testing::kMinimalScenario) + "description: run by ${WHO}\n";
  MemoryWorld w = faultline::testing::world_with("s.yaml", spec);
  const ScenarioLoad load = load_scenario("s.yaml", w.options());
  CHECK_FALSE(load.ok());
  const Diagnostic* d = faultline::testing::find_error(load.diagnostics, "variable WHO is not set");
  REQUIRE(d);
  CHECK(d->loc.file == "s.yaml");
  CHECK(d->loc.line == 17);
  CHECK(d->loc.column == 21);
  CHECK(d->path == "description");
}

TEST_CASE("variables reach the environment file too") {
  MemoryWorld w;
  w.files["s.yaml"] = faultline::testing::kMinimalScenario;
  w.files["envs/local.yaml"] =
      "services:\n  api:\n    command: [\"${BIN:-demo}\", --port, \"{port}\"]\n";
  w.env["BIN"] = "/opt/demo";
  const ScenarioLoad load = load_scenario("s.yaml", w.options());
  REQUIRE_MESSAGE(load.ok(), faultline::testing::summary(load.diagnostics));
  REQUIRE(load.environment->find("api"));
  CHECK(load.environment->find("api")->command[0] == "/opt/demo");
}
