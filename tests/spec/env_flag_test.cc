// --env FILE overrides the environment a spec names (issue 8, defect 12): the loader uses it
// whatever `environment:` says, and the help of run, plan and validate says so.
#include <sys/wait.h>

#include <doctest/doctest.h>

#include <array>
#include <cstdio>

#include "cli_run.h"
#include "spec_test_support.h"

using namespace faultline;
using faultline::testing::MemoryWorld;
using faultline::testing::summary;

namespace {

using faultline::testing::CliRun;
using faultline::testing::faultline_cli;

}  // namespace

TEST_CASE("--env wins over the environment the spec names") {
  MemoryWorld w;
  w.files["specs/s.yaml"] =
      std::string("environment: ../envs/named.yaml\n") + faultline::testing::kMinimalScenario;
  w.files["envs/named.yaml"] = faultline::testing::kTestEnvironment;
  // The override has only the target, at a URL: a different environment, visibly.
  w.files["envs/other.yaml"] = "services:\n  api: {url: \"http://127.0.0.1:9\"}\n";

  const ScenarioLoad named = load_scenario("specs/s.yaml", w.options());
  REQUIRE_MESSAGE(named.ok(), summary(named.diagnostics));
  CHECK(named.scenario->environment == "envs/named.yaml");
  CHECK(named.environment->services.size() == 3);

  LoadOptions with_env = w.options();
  with_env.environment_file = "envs/other.yaml";
  const ScenarioLoad overridden = load_scenario("specs/s.yaml", with_env);
  REQUIRE_MESSAGE(overridden.ok(), summary(overridden.diagnostics));
  CHECK(overridden.scenario->environment == "envs/other.yaml");
  REQUIRE(overridden.environment->services.size() == 1);
  CHECK(overridden.environment->services[0].url == "http://127.0.0.1:9");
}

TEST_CASE("the CLI's --env overrides a shipped spec's environment, and its help says so") {
  // specs/timeout-cascade.yaml names ../envs/local-cascade.yaml, which exists: a missing --env
  // file is an error only because --env is used instead of it.
  const CliRun missing =
      faultline_cli("validate --color never specs/timeout-cascade.yaml --env envs/no-such.yaml");
  CHECK(missing.exit_code == 2);
  CHECK(missing.output.find("cannot read environment file envs/no-such.yaml") != std::string::npos);
  const CliRun fixed = faultline_cli(
      "validate --color never specs/timeout-cascade.yaml --env envs/local-cascade-fixed.yaml");
  CHECK_MESSAGE(fixed.exit_code == 0, fixed.output);

  for (const std::string command : {"run", "plan", "validate"}) {
    CAPTURE(command);
    const CliRun help = faultline_cli(command + " --help");
    CHECK(help.exit_code == 0);
    // cxxopts wraps help text; compare with line breaks and indentation folded to one space.
    std::string text;
    for (char c : help.output) {
      if (c == '\n' || c == ' ') {
        if (!text.empty() && text.back() != ' ') text += ' ';
      } else {
        text += c;
      }
    }
    const bool says_it = text.find("overrides the spec's own environment:") != std::string::npos ||
                         text.find("overrides their own environment:") != std::string::npos;
    CHECK_MESSAGE(says_it, text);
    CHECK(text.find("name none") == std::string::npos);
  }
}
