// faultline new: the template validates and compiles in a fresh project directory, carries the
// schema modeline, --from copies a scenario under the new name, and nothing is overwritten.
#include <doctest/doctest.h>

#include <filesystem>

#include "cli_harness.h"

using faultline::testing::run_cli;
using faultline::testing::slurp;
using faultline::testing::TempDir;

namespace {

// A directory laid out like a checkout: envs/ and schemas/ next to where specs/ will be.
TempDir project(const char* name) {
  TempDir dir(name);
  for (const char* sub : {"envs", "schemas"})
    std::filesystem::copy(std::string(FAULTLINE_SOURCE_DIR) + "/" + sub, dir / sub,
                          std::filesystem::copy_options::recursive);
  return dir;
}

}  // namespace

TEST_CASE("new: the template validates, plans, and is not overwritten") {
  const TempDir dir = project("cli-new");
  const auto r = run_cli("new checkout-slow", dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.rfind("wrote specs/checkout-slow.yaml\n", 0) == 0);
  const std::string text = slurp(dir / "specs/checkout-slow.yaml");
  CHECK(text.rfind("# yaml-language-server: $schema=../schemas/scenario.schema.json\n", 0) == 0);
  CHECK(text.find("\nname: checkout-slow\n") != std::string::npos);

  const auto v = run_cli("validate checkout-slow", dir.path());
  CHECK_MESSAGE(v.exit_code == 0, v.out);
  CHECK(v.out == "specs/checkout-slow.yaml: OK\n");
  const auto p = run_cli("plan checkout-slow", dir.path());
  CHECK_MESSAGE(p.exit_code == 0, p.err);
  CHECK(p.out.find("knobs    payment      set {\"payment_latency_ms_add\":1500") !=
        std::string::npos);

  const auto again = run_cli("new checkout-slow", dir.path());
  CHECK(again.exit_code == 2);
  CHECK(again.err.find("already exists; not overwritten") != std::string::npos);
  CHECK(slurp(dir / "specs/checkout-slow.yaml") == text);
}

TEST_CASE("new: --from copies a scenario under the new name, --dir picks the place") {
  const TempDir dir = project("cli-new-from");
  std::filesystem::create_directories(dir / "specs");
  std::filesystem::copy_file(std::string(FAULTLINE_SOURCE_DIR) + "/specs/error-storm.yaml",
                             dir / "specs/error-storm.yaml");
  const auto r = run_cli("new my-storm --from error-storm --dir specs/mine", dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const std::string copy = slurp(dir / "specs/mine/my-storm.yaml");
  std::string original = slurp(dir / "specs/error-storm.yaml");
  CHECK(copy.find("\nname: my-storm\n") != std::string::npos);
  CHECK(copy.find("name: error-storm") == std::string::npos);
  // Only the name line differs.
  original.replace(original.find("\nname: error-storm\n"), 19, "\nname: my-storm\n");
  CHECK(copy == original);
  const auto v = run_cli("validate specs/mine/my-storm.yaml", dir.path());
  CHECK_MESSAGE(v.exit_code == 0, v.out);

  CHECK(run_cli("new 'bad name'", dir.path()).exit_code == 2);
  CHECK(run_cli("new x --from no-such", dir.path()).exit_code == 2);
}
