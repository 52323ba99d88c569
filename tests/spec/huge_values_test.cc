// Scenarios with huge strings where the schema has a `pattern`: a 30k-character name, request
// path and choice([...]) of 3000 ids. The schema check matched them with libstdc++'s
// ECMAScript engine, which recursed once per character and crashed validate, plan and run.
// Now they load, or get a diagnostic at their place, like any other value.
#include <doctest/doctest.h>

#include <string>

#include "spec/loader.h"
#include "spec_test_support.h"

using faultline::ScenarioLoad;
using faultline::testing::find_error;
using faultline::testing::kMinimalScenario;
using faultline::testing::summary;
using faultline::testing::world_with;

namespace {

// kMinimalScenario with the first `from` replaced by `to`.
std::string scenario_with(const std::string& from, const std::string& to) {
  std::string text = kMinimalScenario;
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

ScenarioLoad load(const std::string& text) {
  const auto world = world_with("huge.yaml", text);
  return faultline::testing::load_text(world, "huge.yaml");
}

std::string choice_of_ids(int count) {
  std::string ids;
  for (int i = 0; i < count; ++i) ids += (i ? ", " : "") + std::string("user-") + std::to_string(i);
  return "choice([" + ids + "])";
}

}  // namespace

TEST_CASE("a 30k-character name is checked against the name pattern") {
  const std::string long_name(30'000, 'n');
  ScenarioLoad l = load(scenario_with("name: minimal", "name: " + long_name));
  CHECK_MESSAGE(!find_error(l.diagnostics, "expected a name"), summary(l.diagnostics));

  // A million characters: the walk passes it on to RapidJSON's validator, which must not
  // recurse per character either (its own regex engine, not libstdc++'s).
  l = load(scenario_with("name: minimal", "name: " + std::string(1'000'000, 'n')));
  CHECK_MESSAGE(!find_error(l.diagnostics, "expected a name"), summary(l.diagnostics));
  CHECK_MESSAGE(!find_error(l.diagnostics, "does not match the schema"), summary(l.diagnostics));

  l = load(scenario_with("name: minimal", "name: " + long_name + "!"));
  const auto* d = find_error(l.diagnostics, "expected a name of letters, digits, '-', '_' or '.'");
  REQUIRE_MESSAGE(d, summary(l.diagnostics));
  CHECK(d->loc.line == 1);
  CHECK_FALSE(l.ok());
}

TEST_CASE("a 30k-character request path is checked against the request pattern") {
  const std::string long_path = "/users/" + std::string(30'000, 'p') + "/{id}";
  ScenarioLoad l = load(scenario_with("GET /users/{id}", "GET " + long_path));
  CHECK_MESSAGE(l.ok(), summary(l.diagnostics));

  l = load(scenario_with("GET /users/{id}", "GET " + long_path + " HTTP/1.1"));
  const auto* d = find_error(l.diagnostics, "expected a method and a path");
  REQUIRE_MESSAGE(d, summary(l.diagnostics));
  CHECK(d->loc.line == 7);
}

TEST_CASE("a choice of 3000 ids (about 30k characters) is checked against the generator pattern") {
  const std::string choice = choice_of_ids(3000);
  REQUIRE(choice.size() > 30'000);
  ScenarioLoad l = load(scenario_with("uniform(1, 100)", choice));
  CHECK_MESSAGE(l.ok(), summary(l.diagnostics));

  // Without its closing parenthesis it is not a generator call.
  l = load(scenario_with("uniform(1, 100)", choice.substr(0, choice.size() - 1)));
  const auto* d = find_error(l.diagnostics, "expected a generator like");
  REQUIRE_MESSAGE(d, summary(l.diagnostics));
  CHECK(d->loc.line == 9);
}
