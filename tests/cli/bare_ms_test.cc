// `during(trigger): p95 > 800` (the project's own first example) validates, with a note at
// the number's file:line:col suggesting 800ms, and runs as 800ms.
#include <doctest/doctest.h>

#include <fstream>
#include <regex>

#include "cli_harness.h"

using faultline::testing::run_cli;
using faultline::testing::slurp;
using faultline::testing::TempDir;

namespace {

// specs/latency-tail.yaml with its first assertion's unit taken off.
std::string bare_spec(const TempDir& dir) {
  std::string text = slurp(std::string(FAULTLINE_SOURCE_DIR) + "/specs/latency-tail.yaml");
  const std::string from = "\"during(trigger): p95(route=orders) > 800ms\"";
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), "\"during(trigger): p95(route=orders) > 800\"");
  const std::string path = dir / "bare.yaml";
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST_CASE("bare ms: validate accepts p95 > 800 with a note at file:line:col") {
  TempDir dir("cli-bare-ms");
  const std::string spec = bare_spec(dir);
  const auto r = run_cli("validate --color never " + spec);
  CHECK_MESSAGE(r.exit_code == 0, r.out);
  CHECK_MESSAGE(
      r.out.find(spec + ":61:43: note: assert[0]: a number without a unit compared "
                        "with a latency is read as milliseconds: 800ms") != std::string::npos,
      r.out);
  CHECK(r.out.find("write 800ms to say so") != std::string::npos);
  CHECK(r.out.find(spec + ": OK (1 note)\n") != std::string::npos);

  const auto json = run_cli("validate --format json " + spec);
  CHECK(json.exit_code == 0);
  CHECK(json.out.find("\"severity\":\"note\"") != std::string::npos);
}

// What 800 means once parsed is pinned in tests/dsl/parser_test.cc; here: plan compiles it and
// says the note too, and the shipped spec stays note-free.
TEST_CASE("bare ms: plan compiles it and repeats the note on stderr") {
  TempDir dir("cli-bare-ms-plan");
  const auto r = run_cli("plan " + bare_spec(dir));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(r.out.find("plan hash ") != std::string::npos);
  CHECK_MESSAGE(r.err.find("note: assert[0]") != std::string::npos, r.err);
  const auto shipped = run_cli("validate --color never specs/latency-tail.yaml");
  CHECK(shipped.out == "specs/latency-tail.yaml: OK\n");
}
