// Reading recorded runs back (recorded/recorded_run.h), through the library: JSON nested a
// million deep, damaged bundles and bundles cut short at every byte. Whatever is on disk,
// loading either judges what is there (with a note when the run was cut short) or throws a
// UsageError (exit 2) naming the file; never a crash, never another exception.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "common/error.h"
#include "judge/evaluator.h"
#include "observe/sample_log.h"
#include "observe/scrape_log.h"
#include "recorded/recorded_run.h"
#include "recorded/run_observations.h"
#include "recorded_fixture.h"
#include "report/summary.h"
#include "temp_dir.h"

using namespace faultline;
using namespace faultline::testing;
namespace fs = std::filesystem;

namespace {

const std::string kDeep = std::string(1'000'000, '[');

// Loads the run at `path` and rebuilds its observations; returns the note.
std::string load_note(const std::string& path) {
  const RecordedRun run = load_recorded_run(path);
  std::string note = "(not set)";
  recorded_observations(run, &note);
  return note;
}

// The usage error that loading `path` and its observations throws ("" when none).
std::string usage_error(const std::string& path) {
  try {
    load_note(path);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

uint64_t number_after(const std::string& text, const std::string& marker) {
  const size_t at = text.find(marker);
  REQUIRE_MESSAGE(at != std::string::npos, "no '" << marker << "' in: " << text);
  return std::stoull(text.substr(at + marker.size()));
}

std::string status(const std::vector<AssertionReport>& verdicts, size_t i) {
  return judge::to_string(verdicts.at(i).status);
}

}  // namespace

TEST_CASE("an artifact nested a million levels deep is refused with its path") {
  const faultline::testing::TempDir tmp_dir("recorded-deep-artifact");
  const std::string dir = tmp_dir.path();
  const Plan plan = recorded_test_plan();
  const WrittenRun run = write_recorded_test_run(dir, plan);
  for (const std::string& text : {kDeep, R"({"meta":{"scenario":)" + kDeep,
                                  R"({"status":"passed","bundle":{"dir":)" + kDeep + "}"}) {
    std::ofstream(run.artifact, std::ios::trunc) << text;
    const std::string error = usage_error(run.artifact);
    CHECK(error.find(run.artifact) == 0);
    CHECK(error.find("nested deeper than 256 levels") != std::string::npos);
    // find_artifacts reads every artifact of the directory: it skips this one.
    CHECK(find_artifacts(dir, "recorded", "t").empty());
  }
}

TEST_CASE("a plan.json nested a million levels deep is refused naming plan.json") {
  const faultline::testing::TempDir tmp_dir("recorded-deep-plan");
  const std::string dir = tmp_dir.path();
  const WrittenRun run = write_recorded_test_run(dir, recorded_test_plan());
  for (const std::string& text :
       {kDeep, R"({"algorithm":"x","phases":)" + kDeep, R"({"faults":[{"knobs":)" + kDeep}) {
    std::ofstream(run.bundle + "/plan.json", std::ios::trunc) << text;
    const std::string error = usage_error(run.artifact);
    CHECK(error.find(run.bundle + "/plan.json: ") == 0);
    CHECK(error.find("nested deeper than 256 levels") != std::string::npos);
  }
}

TEST_CASE("a damaged bundle is a usage error that names the file and what is wrong") {
  const faultline::testing::TempDir tmp_dir("recorded-damaged");
  const std::string dir = tmp_dir.path();
  const Plan plan = recorded_test_plan();
  struct Damage {
    const char* what;
    std::function<void(const WrittenRun&)> apply;
    std::string file;     // the file the message must name
    std::string problem;  // and what it must say
  };
  const std::vector<Damage> damages = {
      {"samples.csv.gz is missing",
       [](const WrittenRun& r) { fs::remove(r.bundle + "/samples.csv.gz"); }, "samples.csv.gz",
       "cannot open sample log"},
      {"scrapes.txt.gz is missing",
       [](const WrittenRun& r) { fs::remove(r.bundle + "/scrapes.txt.gz"); }, "scrapes.txt.gz",
       "cannot open scrape log"},
      {"samples.csv.gz is another file",
       [](const WrittenRun& r) { std::ofstream(r.bundle + "/samples.csv.gz") << "id,name\n1,x\n"; },
       "samples.csv.gz", "is not a faultline sample log"},
      {"scrapes.txt.gz is another file",
       [](const WrittenRun& r) { std::ofstream(r.bundle + "/scrapes.txt.gz") << "hello\n"; },
       "scrapes.txt.gz", "is not a faultline scrape log"},
      {"samples.csv.gz has damaged compressed data",
       [](const WrittenRun& r) {
         const auto size = fs::file_size(r.bundle + "/samples.csv.gz");
         overwrite_file(r.bundle + "/samples.csv.gz", size / 2, std::string(64, '\xff'));
       },
       "samples.csv.gz", "is damaged"},
      {"scrapes.txt.gz has a bad checksum",
       [](const WrittenRun& r) {
         const auto size = fs::file_size(r.bundle + "/scrapes.txt.gz");
         overwrite_file(r.bundle + "/scrapes.txt.gz", size - 8, "\x01\x02\x03\x04");
       },
       "scrapes.txt.gz", "is damaged"},
      {"a sample record is malformed",
       [](const WrittenRun& r) {
         // zlib reads a file without a gzip header as it is.
         std::ofstream(r.bundle + "/samples.csv.gz", std::ios::trunc)
             << "# faultline-samples 1\nseq,request_id,route,method,path,intended_us,sent_us,"
                "latency_us,status,error_class,bytes_in,bytes_out,phase\n"
                "1,a,orders,POST,/orders,zero,0,0,200,,0,0,warmup\n";
       },
       "samples.csv.gz:3", "intended_us is not an integer"},
      {"a scrape entry is longer than its length",
       [](const WrittenRun& r) {
         std::ofstream(r.bundle + "/scrapes.txt.gz", std::ios::trunc)
             << "# faultline-scrapes 1\nscrape 0 2 api\nabc\n";
       },
       "scrapes.txt.gz:2", "goes on past its 2 bytes"},
      {"plan.json is missing", [](const WrittenRun& r) { fs::remove(r.bundle + "/plan.json"); },
       "plan.json", "is missing"},
      {"plan.json is cut short",
       [](const WrittenRun& r) {
         cut_file(r.bundle + "/plan.json", fs::file_size(r.bundle + "/plan.json") / 2);
       },
       "plan.json", "does not parse"},
      {"plan.json was edited",
       [](const WrittenRun& r) {
         std::string text = read_test_file(r.bundle + "/plan.json");
         text.replace(text.find("\"seed\": 5"), 9, "\"seed\": 6");
         std::ofstream(r.bundle + "/plan.json", std::ios::trunc) << text;
       },
       "plan.json", "does not hash to its plan_hash"},
      {"plan.json asks for two million scrape ticks",
       [](const WrittenRun& r) {
         std::string text = read_test_file(r.bundle + "/plan.json");
         text.replace(text.find("\"total_us\": 20000000"), 20, "\"total_us\": 10000000000000");
         std::ofstream(r.bundle + "/plan.json", std::ios::trunc) << text;
       },
       "plan.json", "makes more than 1000000 scrape ticks"},
      {"the bundle directory is gone", [](const WrittenRun& r) { fs::remove_all(r.bundle); },
       "incident-recorded-20261122T000000Z", "is missing"},
      {"the artifact is not JSON",
       [](const WrittenRun& r) { std::ofstream(r.artifact, std::ios::trunc) << "{\"meta\":"; },
       "incident-recorded-20261122T000000Z.json", "not a faultline run artifact"},
  };
  for (const auto& d : damages) {
    CAPTURE(d.what);
    const WrittenRun run = write_recorded_test_run(dir, plan);
    d.apply(run);
    const std::string error = usage_error(run.artifact);
    CHECK(error.find(d.file) != std::string::npos);
    CHECK(error.find(d.problem) != std::string::npos);
    fs::remove_all(run.bundle);
  }
}

TEST_CASE("a sample log cut at any byte is judged on what it holds, with a note") {
  const faultline::testing::TempDir tmp_dir("recorded-cut-samples");
  const std::string dir = tmp_dir.path();
  const WrittenRun run = write_recorded_test_run(dir, recorded_test_plan());
  const std::string log = run.bundle + "/samples.csv.gz";
  const std::string whole = read_test_file(log);
  CHECK(load_note(run.artifact).empty());
  uint64_t last = 0;
  for (size_t cut = 0; cut < whole.size(); ++cut) {
    CAPTURE(cut);
    std::ofstream(log, std::ios::trunc | std::ios::binary) << whole.substr(0, cut);
    const std::string note = load_note(run.artifact);
    CHECK(note.find("the run was cut short: samples.csv.gz ends after ") == 0);
    CHECK(note.find("scrapes.txt.gz") == std::string::npos);
    const uint64_t records = number_after(note, "ends after ");
    CHECK(records >= last);         // a longer prefix never gives fewer records
    CHECK(records <= run.samples);  // the last flush holds every record, not the end
    last = records;
  }
  // A cut where the writer flushed keeps every record written before the flush.
  for (const auto& [bytes, records] : run.sample_flushes) {
    std::ofstream(log, std::ios::trunc | std::ios::binary) << whole.substr(0, bytes);
    CHECK(number_after(load_note(run.artifact), "ends after ") == records);
  }
}

TEST_CASE("a scrape log cut at any byte is judged on what it holds, and judge says so") {
  const faultline::testing::TempDir tmp_dir("recorded-cut-scrapes");
  const std::string dir = tmp_dir.path();
  const WrittenRun run = write_recorded_test_run(dir, recorded_test_plan());
  const std::string log = run.bundle + "/scrapes.txt.gz";
  const std::string whole = read_test_file(log);
  uint64_t last = 0;
  for (size_t cut = 0; cut < whole.size(); ++cut) {
    CAPTURE(cut);
    std::ofstream(log, std::ios::trunc | std::ios::binary) << whole.substr(0, cut);
    const std::string note = load_note(run.artifact);
    CHECK(note.find("the run was cut short: scrapes.txt.gz ends after ") == 0);
    const uint64_t scrapes = number_after(note, "ends after ");
    CHECK(scrapes >= last);
    CHECK(scrapes <= run.scrapes);
    last = scrapes;
  }
  for (const auto& [bytes, scrapes] : run.scrape_flushes) {
    if (bytes == whole.size()) continue;  // the last flush before close: nothing cut
    std::ofstream(log, std::ios::trunc | std::ios::binary) << whole.substr(0, bytes);
    CHECK(number_after(load_note(run.artifact), "ends after ") == scrapes);
  }
}

TEST_CASE("a run killed mid-trigger is judged from its bundle directory on what it recorded") {
  const faultline::testing::TempDir tmp_dir("recorded-killed");
  const std::string dir = tmp_dir.path();
  const Plan plan = recorded_test_plan();
  const WrittenRun run = write_recorded_test_run(dir, plan);
  // Killed about 12.5 s in: no artifact; each log ends at the flush before the kill.
  fs::remove(run.artifact);
  const auto& [sample_bytes, sample_records] = run.sample_flushes.at(4);  // 125 records
  REQUIRE(sample_records == 125);
  cut_file(run.bundle + "/samples.csv.gz", sample_bytes);
  const auto& [scrape_bytes, scrape_count] = run.scrape_flushes.at(2);  // scrapes at 0, 5, 10 s
  cut_file(run.bundle + "/scrapes.txt.gz", scrape_bytes);

  const RecordedRun loaded = load_recorded_run(run.bundle);
  CHECK_FALSE(loaded.has_artifact);
  CHECK(loaded.status == kUnfinishedStatus);
  CHECK(loaded.scenario == "recorded");
  CHECK(loaded.plan.plan_hash == plan.plan_hash);
  std::string note;
  const auto obs = recorded_observations(loaded, &note);
  CHECK(note ==
        "the run was cut short (no artifact was written: the run was killed before its end): "
        "samples.csv.gz ends after 125 records, scrapes.txt.gz after 3 scrapes; judged on what "
        "was recorded");
  const auto verdicts = judge_assertions(loaded.plan, *obs);
  REQUIRE(verdicts.size() == 4);
  CHECK(status(verdicts, 0) == "pass");  // warmup: every request 20 ms
  CHECK(status(verdicts, 1) == "pass");  // trigger so far: 900 ms
  CHECK(status(verdicts, 2) == "pass");  // 5 of the 25 trigger requests failed
  CHECK(verdicts[2].observed.at(0).samples == 25);
  // The scrapes after 10 s were never recorded: the counter's rise in the trigger is not seen.
  CHECK(status(verdicts, 3) != "pass");
}

TEST_CASE("an artifact that says the run stopped early gives a note with complete logs") {
  const faultline::testing::TempDir tmp_dir("recorded-statuses");
  const std::string dir = tmp_dir.path();
  const Plan plan = recorded_test_plan();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"aborted", "the run was cut short (an abort_if condition stopped it after 5s of 20s)"},
      {"interrupted", "the run was cut short (it was interrupted after 5s of 20s)"},
      {"environment-error", "the run was cut short (it ended with an environment error after 5s"},
      {"running", "the run was cut short (its artifact says status 'running'"},
      {"", "the run was cut short (its artifact has no status)"},
      {"passed", ""},
      {"failed", ""},
  };
  for (const auto& [artifact_status, expected] : cases) {
    CAPTURE(artifact_status);
    RunOptions options;
    options.status = artifact_status;
    const WrittenRun run = write_recorded_test_run(dir, plan, options);
    const std::string note = load_note(run.artifact);
    if (expected.empty()) {
      CHECK(note.empty());
    } else {
      CHECK(note.find(expected) == 0);
      CHECK(note.find("judged on what was recorded") != std::string::npos);
    }
  }
}

TEST_CASE("recovery buckets are answered from their own samples, the first one too") {
  // after(trigger) judges cooldown [35s, 55s) in 1 s buckets; the first, [35s, 36s), starts
  // with the phase and must not be answered with all of cooldown.
  using namespace std::chrono_literals;
  Plan plan;
  plan.phases = {PhaseWindow{"warmup", 0s, 10s, 10, 10}, PhaseWindow{"trigger", 10s, 35s, 10, 10},
                 PhaseWindow{"cooldown", 35s, 55s, 10, 10}};
  plan.total = 55s;
  plan.guard.min_requests = 5;
  plan.assertions.push_back(plan_statement("after(trigger): count < 15 within 1s", {},
                                           dsl::StatementKind::kAssertion, "test"));
  RunObservations obs(plan, judging_windows(plan), {});
  for (int64_t t_ms = 0; t_ms < 55'000; t_ms += 100) {  // 10 requests a second
    observe::SampleRecord s;
    s.seq = static_cast<uint64_t>(t_ms);
    s.route = "r";
    s.method = "GET";
    s.intended_us = s.sent_us = t_ms * 1000;
    s.latency_us = 1000;
    s.status = 200;
    s.phase = plan.phase_at(Duration{s.intended_us})->name;
    obs.record(s);
  }
  const judge::Verdict v =
      judge::evaluate(*plan.assertions[0].parsed, plan.phases, obs, judge::judge_options(plan));
  INFO(v.message);
  CHECK(v.status == judge::VerdictStatus::kPass);
  CHECK(v.operands.at(0).value_text == "1s");
  CHECK(v.operands.at(1).observed.value == 10.0);
}
