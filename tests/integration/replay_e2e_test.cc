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

// Request ids the api logged as failed (its log names every 5xx it answered).
std::set<std::string> failed_ids_in_api_log(const Run& r) {
  std::set<std::string> ids;
  const std::string log = read_file(bundle_of(r) + "/logs/api.log");
  static const std::regex failed(R"(event=request_failed request_id=(\S+))");
  for (std::sregex_iterator it(log.begin(), log.end(), failed), end; it != end; ++it)
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
  const std::string dir = fresh_dir("replay");
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
  // Same requests, and the deterministic targeting failed the same ones at the services.
  CHECK(request_ids_sent(replay) == request_ids_sent(original));
  const auto failed = failed_ids_in_api_log(original);
  CHECK(failed.size() > 5);
  CHECK(failed_ids_in_api_log(replay) == failed);
}

TEST_CASE("replay refuses a damaged bundle") {
  const std::string dir = fresh_dir("replay-bad");
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
