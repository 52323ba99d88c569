// Bare scenario names (cli/spec_names.h): every command that takes a spec resolves NAME to
// specs/NAME.yaml, and a matrix NAME to specs/matrix/NAME.yaml, as `make chaos` does.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "cli_harness.h"

using faultline::testing::run_cli;
using faultline::testing::TempDir;

TEST_CASE("bare names: plan NAME prints the same plan as plan specs/NAME.yaml") {
  const auto bare = run_cli("plan latency-tail --format json");
  const auto full = run_cli("plan specs/latency-tail.yaml --format json");
  REQUIRE_MESSAGE(bare.exit_code == 0, bare.err);
  REQUIRE(full.exit_code == 0);
  CHECK(bare.out == full.out);
  CHECK(bare.out.find("\"plan_hash\"") != std::string::npos);
}

TEST_CASE("bare names: validate NAME reports the resolved file") {
  const auto r = run_cli("validate latency-tail error-storm");
  CHECK_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out == "specs/latency-tail.yaml: OK\nspecs/error-storm.yaml: OK\n");
}

TEST_CASE("bare names: an unknown name still fails with exit 2 and names what was typed") {
  const auto r = run_cli("plan no-such-scenario");
  CHECK(r.exit_code == 2);
  CHECK_MESSAGE(r.err.find("no-such-scenario") != std::string::npos, r.err);
}

TEST_CASE("bare names: resolve against specs/ of the current directory, files win") {
  TempDir dir("cli-bare");
  std::filesystem::create_directories(dir / "specs");
  std::filesystem::copy_file(std::string(FAULTLINE_SOURCE_DIR) + "/specs/smoke.yaml",
                             dir / "specs/mine.yaml");
  std::filesystem::copy(std::string(FAULTLINE_SOURCE_DIR) + "/envs", dir / "envs",
                        std::filesystem::copy_options::recursive);
  const auto r = run_cli("validate mine", dir.path());
  CHECK_MESSAGE(r.exit_code == 0, (r.out + r.err));
  CHECK(r.out == "specs/mine.yaml: OK\n");
  // A file of that very name in the current directory is taken as given.
  std::ofstream(dir / "mine") << "not: a scenario\n";
  const auto own = run_cli("validate mine", dir.path());
  CHECK(own.exit_code == 2);
  CHECK_MESSAGE(own.out.find("\nmine: invalid") != std::string::npos, own.out);
  CHECK(own.out.find("specs/mine.yaml") == std::string::npos);
}

TEST_CASE("bare names: matrix NAME is specs/matrix/NAME.yaml") {
  const auto bare = run_cli("matrix nightly --list --format json");
  const auto full = run_cli("matrix specs/matrix/nightly.yaml --list --format json");
  REQUIRE_MESSAGE(bare.exit_code == 0, bare.err);
  CHECK(bare.out == full.out);
  CHECK(bare.out.find("latency-tail") != std::string::npos);
}
