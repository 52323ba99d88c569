// ArrivalSource's partitions: which loop thread sends an arrival depends on its seq alone, the
// union is the whole schedule, and the schedule hash does not depend on the partition count.
#include "run/arrival_source.h"

#include <doctest/doctest.h>

#include <map>
#include <vector>

#include "plan/compiler.h"

namespace faultline {
namespace {

using namespace std::chrono_literals;

Scenario two_route_scenario(int threads) {
  Scenario s;
  s.name = "partitions";
  s.seed = 7;
  s.target = "api";
  s.traffic.rate_per_s = 200;
  s.traffic.arrival = ArrivalProcess::kPoisson;
  s.traffic.threads = threads;
  RouteSpec a;
  a.name = "a";
  a.method = "GET";
  a.path_template = "/a/{n}";
  a.vars.push_back({"n", VarSpec::Kind::kUniform, 1, 100, 0, 1.0, {}, 1, 1, {}});
  RouteSpec b;
  b.name = "b";
  b.method = "POST";
  b.path_template = "/b";
  b.body_template = R"({"id":"{request_id}"})";
  s.traffic.routes = {a, b};
  s.phases = {PhaseSpec{"only", 2s, std::nullopt, std::nullopt, {}, {}}};
  return s;
}

// Pulls partition `k` dry; returns its requests' (seq, url).
std::vector<std::pair<uint64_t, std::string>> drain(RequestSource& source) {
  std::vector<std::pair<uint64_t, std::string>> out;
  PlannedRequest r;
  while (source.next(r)) out.emplace_back(r.seq, r.url);
  return out;
}

TEST_CASE("partitions split the arrivals by seq and keep the schedule hash") {
  const Plan plan = compile_plan(two_route_scenario(0), {});
  ArrivalSource whole(plan, "http://127.0.0.1:9");
  const auto all = drain(*whole.partitions()[0]);
  REQUIRE(all.size() > 300);

  ArrivalSource split(plan, "http://127.0.0.1:9", 0, 1, 3);
  const auto parts = split.partitions();
  REQUIRE(parts.size() == 3);
  // Drained out of order: partition 2 generates the whole stream, queueing the others'.
  std::map<uint64_t, std::string> seen;
  for (uint32_t k : {2u, 0u, 1u}) {
    uint64_t last = 0;
    bool first = true;
    for (const auto& [seq, url] : drain(*parts[k])) {
      CHECK(seq % 3 == k);
      CHECK((first || seq > last));
      first = false;
      last = seq;
      CHECK(seen.emplace(seq, url).second);
    }
  }
  REQUIRE(seen.size() == all.size());
  for (const auto& [seq, url] : all) CHECK(seen[seq] == url);
  CHECK(split.handed_out() == whole.handed_out());
  CHECK(split.schedule_sha256() == whole.schedule_sha256());
}

TEST_CASE("partitions inside a shard split that shard's arrivals") {
  const Plan plan = compile_plan(two_route_scenario(0), {});
  ArrivalSource shard(plan, "http://127.0.0.1:9", 1, 2, 2);
  const auto parts = shard.partitions();
  size_t count = 0;
  for (uint32_t k = 0; k < 2; ++k) {
    for (const auto& [seq, url] : drain(*parts[k])) {
      CHECK(seq % 2 == 1);
      CHECK((seq / 2) % 2 == k);
      ++count;
    }
  }
  ArrivalSource unsplit(plan, "http://127.0.0.1:9", 1, 2, 1);
  CHECK(count == drain(*unsplit.partitions()[0]).size());
  CHECK(shard.schedule_sha256() == unsplit.schedule_sha256());
}

TEST_CASE("traffic.threads is not part of the plan or its hash") {
  const Plan automatic = compile_plan(two_route_scenario(0), {});
  const Plan four = compile_plan(two_route_scenario(4), {});
  CHECK(four.threads == 4);
  CHECK(automatic.plan_hash == four.plan_hash);
}

}  // namespace
}  // namespace faultline
