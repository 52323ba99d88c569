// judge, compare and replay on recorded runs that are hostile, damaged or cut short, through
// the real binary: exit 2 with a message naming the file for anything that cannot be read
// (never a crash, never exit 3), and a judgement with a "cut short" note for a partial
// bundle. No services and no network are involved: each command fails or judges before it
// would start anything.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>

#include "proc/child_process.h"
#include "recorded_fixture.h"
#include "temp_dir.h"

using namespace faultline;
using namespace faultline::testing;
namespace fs = std::filesystem;

namespace {

struct Cli {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `faultline <args>` in `dir` (artifacts of compare go to <dir>/artifacts).
Cli faultline_cli(const std::vector<std::string>& args, const std::string& dir) {
  ChildSpec spec;
  spec.argv = {FAULTLINE_CLI};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.cwd = dir;
  spec.stdout_path = dir + "/cli.out";
  fs::remove(spec.stdout_path);
  ChildProcess p = ChildProcess::spawn(spec);
  const auto status = p.wait_for_exit(std::chrono::seconds(60));
  if (!status) {
    p.stop();
    FAIL("faultline " << args.at(0) << " did not finish within 60 s");
  }
  Cli r;
  r.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  r.output = read_test_file(spec.stdout_path);
  return r;
}

// judge, compare (the run against itself) and replay of `artifact`.
std::vector<std::pair<std::string, Cli>> all_three(const std::string& artifact,
                                                   const std::string& dir) {
  return {
      {"judge", faultline_cli({"judge", artifact}, dir)},
      {"compare", faultline_cli({"compare", artifact, artifact, "--artifacts", dir + "/out"}, dir)},
      {"replay", faultline_cli({"replay", artifact, "--artifacts", dir + "/out"}, dir)}};
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("judge, compare and replay exit 2 on an artifact nested a million deep") {
  const faultline::testing::TempDir tmp_dir("recorded-cli-deep-artifact");
  const std::string dir = tmp_dir.path();
  const WrittenRun run = write_recorded_test_run(dir, recorded_test_plan());
  std::ofstream(run.artifact, std::ios::trunc) << std::string(1'000'000, '[');
  for (const auto& [command, r] : all_three(run.artifact, dir)) {
    CAPTURE(command);
    CAPTURE(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, run.artifact + " is not a faultline run artifact: nested deeper "
                                            "than 256 levels"));
  }
}

TEST_CASE("judge, compare and replay exit 2 on a plan.json nested a million deep") {
  const faultline::testing::TempDir tmp_dir("recorded-cli-deep-plan");
  const std::string dir = tmp_dir.path();
  const WrittenRun run = write_recorded_test_run(dir, recorded_test_plan());
  std::ofstream(run.bundle + "/plan.json", std::ios::trunc)
      << R"({"algorithm":"faultline-plan-1","phases":)" << std::string(1'000'000, '[');
  for (const auto& [command, r] : all_three(run.artifact, dir)) {
    CAPTURE(command);
    CAPTURE(r.output);
    CHECK(r.exit_code == 2);
    CHECK(contains(r.output, run.bundle + "/plan.json: plan JSON does not parse: nested deeper "
                                          "than 256 levels"));
  }
}

TEST_CASE("a damaged bundle exits 2 from judge, compare and replay, naming the file") {
  const faultline::testing::TempDir tmp_dir("recorded-cli-damaged");
  const std::string dir = tmp_dir.path();
  const Plan plan = recorded_test_plan();
  // What replay reads (the plan) and what it does not (the logs) are checked apart.
  struct Damage {
    const char* what;
    std::function<void(const WrittenRun&)> apply;
    std::string message;
    bool replay_reads_it;
  };
  const std::vector<Damage> damages = {
      {"plan.json cut short", [](const WrittenRun& r) { cut_file(r.bundle + "/plan.json", 100); },
       "plan.json: plan JSON does not parse", true},
      {"bundle gone", [](const WrittenRun& r) { fs::remove_all(r.bundle); }, "is missing", true},
      {"samples.csv.gz damaged",
       [](const WrittenRun& r) {
         overwrite_file(r.bundle + "/samples.csv.gz",
                        fs::file_size(r.bundle + "/samples.csv.gz") / 2, std::string(64, '\xff'));
       },
       "samples.csv.gz is damaged", false},
      {"samples.csv.gz missing",
       [](const WrittenRun& r) { fs::remove(r.bundle + "/samples.csv.gz"); },
       "cannot open sample log", false},
      {"scrapes.txt.gz not a scrape log",
       [](const WrittenRun& r) { std::ofstream(r.bundle + "/scrapes.txt.gz") << "hello\n"; },
       "scrapes.txt.gz is not a faultline scrape log", false},
  };
  for (const auto& d : damages) {
    CAPTURE(d.what);
    const WrittenRun run = write_recorded_test_run(dir, plan);
    d.apply(run);
    for (const auto& [command, r] : all_three(run.artifact, dir)) {
      if (command == "replay" && !d.replay_reads_it) continue;
      CAPTURE(command);
      CAPTURE(r.output);
      CHECK(r.exit_code == 2);
      CHECK(contains(r.output, "faultline " + command + ": "));
      CHECK(contains(r.output, d.message));
      CHECK_FALSE(contains(r.output, "internal error"));
    }
    fs::remove_all(run.bundle);
  }
}

TEST_CASE("judge and compare judge a partial bundle and say the run was cut short") {
  const faultline::testing::TempDir tmp_dir("recorded-cli-partial");
  const std::string dir = tmp_dir.path();
  const WrittenRun run = write_recorded_test_run(dir, recorded_test_plan());
  // Killed 12.5 s in, before the artifact: each log ends at its last flush, then mid-entry.
  fs::remove(run.artifact);
  cut_file(run.bundle + "/samples.csv.gz", run.sample_flushes.at(4).first + 7);
  cut_file(run.bundle + "/scrapes.txt.gz", run.scrape_flushes.at(2).first + 5);

  const Cli judged = faultline_cli({"judge", run.bundle}, dir);
  CAPTURE(judged.output);
  // The scrapes after 10 s are lost, so the counter's rise in the trigger is not seen: exit 1.
  CHECK(judged.exit_code == 1);
  CHECK(contains(judged.output,
                 "note: the run was cut short (no artifact was written: the run was killed "
                 "before its end): samples.csv.gz ends after 125 records, scrapes.txt.gz after "
                 "3 scrapes; judged on what was recorded\n"));
  CHECK(contains(judged.output, "PASS during(warmup): p95 < 100ms"));
  CHECK(contains(judged.output, "PASS during(trigger): error_rate > 10%"));

  const Cli compared =
      faultline_cli({"compare", run.bundle, run.bundle, "--artifacts", dir + "/out"}, dir);
  CAPTURE(compared.output);
  CHECK((compared.exit_code == 0 || compared.exit_code == 1));
  CHECK(contains(compared.output,
                 "the run was cut short: samples.csv.gz ends after 125 records, "
                 "scrapes.txt.gz after 3 scrapes"));

  // replay needs the artifact's schedule checksum: a bundle alone is refused, exit 2.
  const Cli replayed = faultline_cli({"replay", run.bundle}, dir);
  CHECK(replayed.exit_code == 2);
  CHECK(contains(replayed.output, "is a bundle without its artifact"));
}

TEST_CASE("judge on an aborted run with a truncated scrape log says both") {
  const faultline::testing::TempDir tmp_dir("recorded-cli-aborted");
  const std::string dir = tmp_dir.path();
  RunOptions options;
  options.status = "aborted";
  const WrittenRun run = write_recorded_test_run(dir, recorded_test_plan(), options);
  cut_file(run.bundle + "/scrapes.txt.gz", run.scrape_flushes.at(3).first + 3);
  const Cli judged = faultline_cli({"judge", run.artifact}, dir);
  CAPTURE(judged.output);
  CHECK((judged.exit_code == 0 || judged.exit_code == 1));
  CHECK(contains(judged.output,
                 "note: the run was cut short (an abort_if condition stopped it after 5s of "
                 "20s): scrapes.txt.gz ends after 4 scrapes; judged on what was recorded\n"));
}
