// faultline replay re-sends a recorded run's schedule exactly: the replay's checksum equals
// the original's, and the services see the same request ids hit by the same faults.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "faultline_runs.h"
#include "observe/sample_log.h"

using namespace faultline;
using namespace faultline::testing;
using namespace std::chrono_literals;

namespace {

std::string bundle_of(const Run& r) {
  return (std::filesystem::path(r.artifact).parent_path() / r.report["bundle"]["dir"].GetString())
      .string();
}

// The plan's request ids ("fl-...") a service logged for `event` (envs/local.yaml runs the
// demo services with --access-log: event=request for every answer below 400, request_failed
// for 5xx). Scrapes and fault calls carry ids the services made up, and are left out.
std::set<std::string> ids_in_log(const Run& r, const std::string& service,
                                 const std::string& event) {
  std::set<std::string> ids;
  const std::string log = read_file(bundle_of(r) + "/logs/" + service + ".log");
  const std::regex line("event=" + event + " request_id=(fl-\\S+)");
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it)
    ids.insert((*it)[1]);
  return ids;
}

std::set<std::string> request_ids_sent(const Run& r) {
  std::set<std::string> ids;
  observe::SampleLogReader samples(bundle_of(r) + "/samples.csv.gz");
  observe::SampleRecord rec;
  while (samples.next(rec))
    if (!rec.dropped()) ids.insert(rec.request_id);
  return ids;
}

}  // namespace

TEST_CASE("replay sends the recorded schedule again, from the bundle alone") {
  const testing::TempDir tmp("e2e-replay");
  const std::string& dir = tmp.path();
  const Run original =
      run_faultline_in({"run", "specs/error-storm.yaml", "--duration", "12s", "--quiet"}, dir);
  INFO(original.output);
  REQUIRE(original.exit_code == 0);
  const Run replay = run_faultline_in({"replay", original.artifact, "--quiet"}, dir);
  INFO(replay.output);
  CHECK(replay.exit_code == 0);
  REQUIRE(replay.report.IsObject());
  CHECK(replay.report["replay"]["is_replay"].IsTrue());
  CHECK(replay.report["replay"]["schedule_matched"].IsTrue());
  CHECK(std::string(replay.report["replay"]["source_artifact"].GetString()) == original.artifact);
  CHECK(std::string(replay.report["meta"]["schedule_sha256"].GetString()) ==
        original.report["meta"]["schedule_sha256"].GetString());
  CHECK(replay.report["meta"]["arrivals"].GetUint64() ==
        original.report["meta"]["arrivals"].GetUint64());
  CHECK(replay.output.find("schedule: matched the recording") != std::string::npos);
  // Same requests; the services saw the same ids (api: every request; payment: every charge,
  // by the ids the api derived), and the deterministic targeting failed the same ones.
  const auto sent = request_ids_sent(original);
  CHECK(request_ids_sent(replay) == sent);
  const auto api_ok = ids_in_log(original, "api", "request");
  const auto api_failed = ids_in_log(original, "api", "request_failed");
  CHECK(api_ok.size() + api_failed.size() == sent.size());
  CHECK(api_failed.size() > 5);
  CHECK(ids_in_log(replay, "api", "request") == api_ok);
  CHECK(ids_in_log(replay, "api", "request_failed") == api_failed);
  const auto charges = ids_in_log(original, "payment", "request");
  CHECK(charges.size() > 10);
  CHECK(ids_in_log(replay, "payment", "request") == charges);
}

TEST_CASE("replay refuses a damaged bundle") {
  const testing::TempDir tmp("e2e-replay-bad");
  const std::string& dir = tmp.path();
  const Run original =
      run_faultline_in({"run", "specs/error-storm.yaml", "--duration", "6s", "--quiet"}, dir);
  REQUIRE(!original.artifact.empty());
  const std::string plan = bundle_of(original) + "/plan.json";
  std::string text = read_file(plan);
  text.replace(text.find("\"seed\": "), 8, "\"seed\": 1");  // 7 -> 17: an edited plan
  std::ofstream(plan) << text;
  const Run replay = run_faultline_in({"replay", original.artifact, "--quiet"}, dir);
  CHECK(replay.exit_code == 2);
  CHECK(replay.output.find("does not hash to its plan_hash") != std::string::npos);
}
