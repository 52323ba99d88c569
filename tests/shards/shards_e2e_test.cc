// End to end: one plan run as 3 shard processes in parallel against the demo services (started
// once, given to faultline by URL), merged with faultline merge, equals a single run of the
// same plan: the same verdicts, and the same requests sent and status classes per phase and
// route. Also the errors merge gives for shards that do not belong together.
#include <doctest/doctest.h>
#include <rapidjson/document.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "demo_cluster.h"
#include "faultline_runs.h"
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
  testing::DemoClusterOptions options;
  options.start_worker = false;
  testing::DemoCluster cluster(options);
  testing::TempDir dir("shards");
  const std::string env = url_environment(cluster, dir.path());

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
