// End to end: one plan run as 3 shard processes in parallel against the demo services (started
// once, given to faultline by URL), merged with faultline merge, equals a single run of the
// same plan: the same verdicts, and the same requests sent and status classes per phase and
// route. Also the errors merge gives for shards that do not belong together.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "demo_cluster.h"
#include "faultline_runs.h"
#include "observe/sample_log.h"
#include "proc/child_process.h"

using namespace faultline;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSpec = "tests/shards/specs/shard-smoke.yaml";

std::string url_environment(testing::DemoCluster& cluster, const std::string& dir) {
  const std::string path = dir + "/env.yaml";
  std::ofstream f(path);
  f << "version: 1\nname: external\nservices:\n"
    << "  api: {url: \"" << cluster.api_url() << "\"}\n"
    << "  payment: {url: \"" << cluster.payment_url() << "\"}\n";
  return path;
}

// The demo api and payment (no worker) started once and given to faultline by URL, and a
// directory for the runs: what every case here runs against.
struct UrlCluster {
  explicit UrlCluster(const std::string& name)
      : cluster(options()), dir(name), env(url_environment(cluster, dir.path())) {}
  static testing::DemoClusterOptions options() {
    testing::DemoClusterOptions o;
    o.start_worker = false;
    return o;
  }
  testing::DemoCluster cluster;
  testing::TempDir dir;
  const std::string env;
};

// "phase/route" -> "sent=N 2xx=N 4xx=N ..." for every phase and route of a report, and the
// verdicts, in one comparable list.
std::vector<std::string> figures(const rapidjson::Document& report) {
  std::vector<std::string> out;
  for (const auto& phase : report["phases"].GetArray()) {
    const std::string name = phase["name"].GetString();
    auto line = [&](const std::string& key, const rapidjson::Value& t) {
      std::string s = name + "/" + key + ": sent=" + std::to_string(t["sent"].GetInt64()) +
                      " completed=" + std::to_string(t["completed"].GetInt64());
      for (const auto& [cls, n] : t["by_status_class"].GetObject())
        s += " " + std::string(cls.GetString()) + "=" + std::to_string(n.GetInt64());
      out.push_back(s);
    };
    line("all", phase["client"]);
    for (const auto& [route, t] : phase["routes"].GetObject()) line(route.GetString(), t);
  }
  for (const auto& a : report["assertions"].GetArray())
    out.push_back(std::string("assert ") + a["text"].GetString() + " -> " +
                  a["status"].GetString());
  return out;
}

int64_t total_sent(const rapidjson::Document& report) {
  int64_t n = 0;
  for (const auto& phase : report["phases"].GetArray()) n += phase["client"]["sent"].GetInt64();
  return n;
}

}  // namespace

TEST_CASE("three shards merged equal a single run of the same plan") {
  UrlCluster setup("shards");
  const testing::TempDir& dir = setup.dir;
  const std::string& env = setup.env;

  std::vector<std::string> shard_dirs;
  std::vector<ChildProcess> shards;
  for (int i = 0; i < 3; ++i) {
    shard_dirs.push_back(dir.path() + "/shard-" + std::to_string(i));
    fs::create_directories(shard_dirs.back());
    shards.push_back(testing::start_faultline(
        {"run", kSpec, "--env", env, "--shard", std::to_string(i) + "/3", "--progress", "quiet"},
        shard_dirs.back()));
  }
  std::vector<std::string> artifacts;
  int64_t shard_sent = 0;
  for (int i = 0; i < 3; ++i) {
    testing::Run r = testing::finish_faultline(shards[i], shard_dirs[i], 60s);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    REQUIRE_FALSE(r.artifact.empty());
    CHECK(std::string(r.report["meta"]["overrides"]["shard"].GetString()) ==
          std::to_string(i) + "/3");
    CHECK(r.report["assertions"].GetArray().Size() == 0);  // shards do not judge
    shard_sent += total_sent(r.report);
    artifacts.push_back(r.artifact);
  }

  fs::create_directories(dir.path() + "/merge");
  testing::Run merged = testing::run_faultline_in(
      {"merge", artifacts[2], artifacts[0], artifacts[1]}, dir.path() + "/merge", 60s);
  INFO(merged.output);
  REQUIRE_FALSE(merged.artifact.empty());
  CHECK(std::string(merged.report["meta"]["overrides"]["merged_from"].GetString()) == "3 shards");

  fs::create_directories(dir.path() + "/single");
  testing::Run single = testing::run_faultline_in(
      {"run", kSpec, "--env", env, "--progress", "quiet"}, dir.path() + "/single", 60s);
  INFO(single.output);
  REQUIRE_FALSE(single.artifact.empty());

  CHECK(merged.exit_code == single.exit_code);
  CHECK(merged.status() == single.status());
  CHECK(single.status() == "passed");
  CHECK(figures(merged.report) == figures(single.report));
  CHECK(total_sent(merged.report) == shard_sent);
  CHECK(std::string(merged.report["meta"]["plan_hash"].GetString()) ==
        single.report["meta"]["plan_hash"].GetString());
  // The merged schedule is the single run's: the same arrivals, in seq order.
  CHECK(std::string(merged.report["meta"]["schedule_sha256"].GetString()) ==
        single.report["meta"]["schedule_sha256"].GetString());

  SUBCASE("merge refuses a missing or a duplicate shard") {
    fs::create_directories(dir.path() + "/bad");
    testing::Run missing =
        testing::run_faultline_in({"merge", artifacts[0], artifacts[2]}, dir.path() + "/bad", 30s);
    CHECK(missing.exit_code == 2);
    CHECK(missing.output.find("missing shard 1 of 3") != std::string::npos);
    testing::Run twice = testing::run_faultline_in(
        {"merge", artifacts[0], artifacts[1], artifacts[1]}, dir.path() + "/bad", 30s);
    CHECK(twice.exit_code == 2);
    CHECK(twice.output.find("is given twice") != std::string::npos);
    testing::Run not_shard =
        testing::run_faultline_in({"merge", single.artifact}, dir.path() + "/bad", 30s);
    CHECK(not_shard.exit_code == 2);
    CHECK(not_shard.output.find("not a shard") != std::string::npos);
  }
}

// traffic.threads: loops share one plan's arrivals by seq; the run is the single loop's run.
TEST_CASE("a run with three loop threads sends the same schedule as a run with one") {
  UrlCluster setup("threads");
  const testing::TempDir& dir = setup.dir;
  const std::string& env = setup.env;

  std::vector<testing::Run> runs;
  for (const char* threads : {"1", "3"}) {
    const std::string run_dir = dir.path() + "/threads-" + threads;
    fs::create_directories(run_dir);
    runs.push_back(testing::run_faultline_in(
        {"run", kSpec, "--env", env, "--threads", threads, "--progress", "quiet"}, run_dir, 60s));
    INFO(runs.back().output);
    REQUIRE_FALSE(runs.back().artifact.empty());
  }
  const auto& one = runs[0].report;
  const auto& three = runs[1].report;
  CHECK(one["meta"]["load_threads"].GetInt() == 1);
  CHECK(three["meta"]["load_threads"].GetInt() == 3);
  CHECK(std::string(three["meta"]["overrides"]["threads"].GetString()) == "3");
  CHECK(std::string(three["meta"]["plan_hash"].GetString()) ==
        one["meta"]["plan_hash"].GetString());
  CHECK(std::string(three["meta"]["schedule_sha256"].GetString()) ==
        one["meta"]["schedule_sha256"].GetString());
  CHECK(three["meta"]["arrivals"].GetInt64() == one["meta"]["arrivals"].GetInt64());
  CHECK(runs[1].status() == runs[0].status());
  CHECK(figures(three) == figures(one));

  // Every arrival has exactly one sample in the merged log, with its route's path and phase.
  auto samples = [](const std::string& artifact) {
    const std::string bundle = artifact.substr(0, artifact.size() - std::string(".json").size());
    observe::SampleLogReader reader(bundle + "/samples.csv.gz");
    std::map<uint64_t, std::string> by_seq;
    observe::SampleRecord r;
    while (reader.next(r)) {
      CHECK(by_seq.emplace(r.seq, r.route + " " + r.path + " " + r.phase).second);
    }
    return by_seq;
  };
  const auto from_one = samples(runs[0].artifact);
  const auto from_three = samples(runs[1].artifact);
  CHECK(from_three.size() == static_cast<size_t>(one["meta"]["arrivals"].GetInt64()));
  CHECK(from_three == from_one);
  REQUIRE_FALSE(from_three.empty());
  CHECK(from_three.begin()->second.find(" /") != std::string::npos);  // a path, not a URL
}
