#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "common/error.h"
#include "plan/arrival_stream.h"
#include "plan/compiler.h"
#include "plan/plan_json.h"

using namespace faultline;
using namespace std::chrono_literals;

namespace {

Scenario demo_scenario() {
  Scenario s;
  s.name = "demo";
  s.seed = 42;
  s.target = "api";
  s.traffic.rate_per_s = 50;
  RouteSpec users;
  users.name = "users";
  users.weight = 70;
  users.method = "GET";
  users.path_template = "/users/{user_id}";
  users.vars.push_back({"user_id", VarSpec::Kind::kUniform, 1, 1000, 0, 1.0, {}, 1, 1, {}});
  RouteSpec orders;
  orders.name = "orders";
  orders.weight = 30;
  orders.method = "POST";
  orders.path_template = "/orders";
  orders.header_templates = {{"Content-Type", "application/json"}};
  orders.body_template = R"({"order_id":"o-{seq}","user_id":{uid},"tier":"{tier}"})";
  orders.vars.push_back({"uid", VarSpec::Kind::kZipf, 0, 0, 100, 1.1, {}, 1, 1, {}});
  orders.vars.push_back({"tier", VarSpec::Kind::kChoice, 0, 0, 0, 1.0, {"gold", "free"}, 1, 1, {}});
  s.traffic.routes = {users, orders};
  FaultProfile slow;
  slow.name = "slow-payment";
  slow.knobs = {{"payment", "payment_latency_ms_add", "1500", {}},
                {"payment", "payment_latency_pct", "10", {}}};
  s.fault_profiles.push_back(slow);
  PhaseFault use;
  use.profile = "slow-payment";
  PhaseSpec warmup{"warmup", 10s, std::nullopt, std::nullopt, {}, {}};
  PhaseSpec trigger{"trigger", 20s, 80.0, std::nullopt, {use}, {}};
  PhaseSpec cooldown{"cooldown", 10s, std::nullopt, std::make_pair(80.0, 20.0), {}, {}};
  s.phases = {warmup, trigger, cooldown};
  s.observe.interval = 1s;
  s.assertions.push_back({"during(trigger): p95(route=orders) > 800ms", {}});
  return s;
}

std::vector<Arrival> all_arrivals(const Plan& plan) {
  std::vector<Arrival> out;
  ArrivalStream stream(plan);
  while (auto a = stream.next()) out.push_back(std::move(*a));
  return out;
}

}  // namespace

TEST_CASE("phase windows, rates and the fault timeline") {
  const Plan plan = compile_plan(demo_scenario(), {});
  REQUIRE(plan.phases.size() == 3);
  CHECK(plan.phases[1].start == 10s);
  CHECK(plan.phases[1].end == 30s);
  CHECK(plan.total == 40s);
  CHECK(plan.phases[0].rate_from == 50);
  CHECK(plan.phases[1].rate_to == 80);
  CHECK(plan.phases[2].rate_from == 80);
  CHECK(plan.phases[2].rate_to == 20);
  CHECK(plan.phases[2].expected_requests() == doctest::Approx(500));
  REQUIRE(plan.fault_steps.size() == 2);
  CHECK(plan.fault_steps[0].at == 10s);
  CHECK(plan.fault_steps[0].target == "payment");
  CHECK(plan.fault_steps[0].state_json ==
        R"({"payment_latency_ms_add":1500,"payment_latency_pct":10})");
  CHECK(plan.fault_steps[1].at == 30s);
  CHECK(plan.fault_steps[1].is_reset());
  CHECK(plan.scrape_ticks.front() == 0s);
  CHECK(plan.scrape_ticks.back() == 40s);
  CHECK(plan.scrape_ticks.size() == 41);
  CHECK(plan.tolerance.baseline_phase == "warmup");
}

TEST_CASE("arrival counts follow the rates, constant and ramped") {
  const Plan plan = compile_plan(demo_scenario(), {});
  const auto arrivals = all_arrivals(plan);
  std::map<uint32_t, int> per_phase;
  Duration last{0};
  for (const auto& a : arrivals) {
    CHECK(a.intended >= last);
    last = a.intended;
    const auto& ph = plan.phases[a.phase];
    CHECK(a.intended >= ph.start);
    CHECK(a.intended < ph.end);
    per_phase[a.phase]++;
  }
  CHECK(per_phase[0] == 500);   // 50/s for 10 s
  CHECK(per_phase[1] == 1600);  // 80/s for 20 s
  CHECK(per_phase[2] == 500);   // ramp 80 -> 20 over 10 s
  // In a falling ramp the arrivals thin out: the first half holds more than the second.
  int first_half = 0;
  for (const auto& a : arrivals)
    if (a.phase == 2 && a.intended < 35s) first_half++;
  CHECK(first_half == doctest::Approx(325).epsilon(0.01).scale(0));  // integral of the rate to 5 s
}

TEST_CASE("poisson arrivals have the right count and exponential gaps") {
  Scenario s = demo_scenario();
  s.traffic.arrival = ArrivalProcess::kPoisson;
  s.phases = {PhaseSpec{"only", 200s, 100.0, std::nullopt, {}, {}}};
  const auto arrivals = all_arrivals(compile_plan(s, {}));
  CHECK(arrivals.size() == doctest::Approx(20000).epsilon(0.03).scale(0));
  // Coefficient of variation of exponential gaps is 1.
  double sum = 0, sum2 = 0;
  for (size_t i = 1; i < arrivals.size(); ++i) {
    const double g = static_cast<double>((arrivals[i].intended - arrivals[i - 1].intended).count());
    sum += g;
    sum2 += g * g;
  }
  const double n = static_cast<double>(arrivals.size() - 1);
  const double mean = sum / n;
  const double cv = std::sqrt(sum2 / n - mean * mean) / mean;
  CHECK(mean == doctest::Approx(10000).epsilon(0.03).scale(0));
  CHECK(cv == doctest::Approx(1.0).epsilon(0.05).scale(0));
}

TEST_CASE("route mix, templates and ids") {
  const Plan plan = compile_plan(demo_scenario(), {});
  const auto arrivals = all_arrivals(plan);
  int orders = 0;
  std::set<std::string> ids;
  for (const auto& a : arrivals) {
    ids.insert(a.request_id);
    CHECK(a.request_id == "fl-42-" + std::to_string(a.seq));
    CHECK(a.traceparent.size() == 55);
    CHECK(a.traceparent.rfind("00-", 0) == 0);
    if (plan.routes[a.route].name == "orders") {
      ++orders;
      CHECK(a.method == "POST");
      CHECK(a.path == "/orders");
      CHECK(a.body.find("\"order_id\":\"o-" + std::to_string(a.seq) + "\"") != std::string::npos);
      CHECK(a.body.find("{uid}") == std::string::npos);
      CHECK((a.body.find("\"tier\":\"gold\"") != std::string::npos ||
             a.body.find("\"tier\":\"free\"") != std::string::npos));
      REQUIRE(a.headers.size() == 1);
      CHECK(a.headers[0].second == "application/json");
    } else {
      CHECK(a.method == "GET");
      const int id = std::stoi(a.path.substr(std::string("/users/").size()));
      CHECK(id >= 1);
      CHECK(id <= 1000);
      CHECK(a.body.empty());
    }
  }
  CHECK(ids.size() == arrivals.size());
  // Each arrival picks orders with p = 30 / (70 + 30) = 0.3, independently, so the count is
  // Binomial(n, 0.3): mean 0.3 n, standard deviation sqrt(n * 0.3 * 0.7) (n = 2600: 780 and
  // 23.4). Four standard deviations (a false alarm about once in 16000 seeds) accept shares
  // of 0.264..0.336; a pick skewed by 15% (a share of 0.39 or 0.18) is far outside.
  const double n = static_cast<double>(arrivals.size());
  REQUIRE(n == 2600);
  const double sd = std::sqrt(n * 0.3 * 0.7);
  INFO("orders " << orders << " of " << n << ", expected " << 0.3 * n << " +- " << 4 * sd);
  CHECK(std::abs(orders - 0.3 * n) <= 4 * sd);
}

TEST_CASE("templates fill placeholders as the loader reads them and keep other braces") {
  Scenario s = demo_scenario();
  RouteSpec& users = s.traffic.routes[0];
  users.weight = 1;
  s.traffic.routes[1].weight = 0.000001;  // practically only users
  users.path_template = "/u/{{user_id}}/{request_id}?q={not a var}&s={seq}{unknown}";
  users.body_template = R"({"id":{user_id},"nested":{"a":1}})";
  const Plan plan = compile_plan(s, {});
  ArrivalStream stream(plan);
  std::optional<Arrival> a;
  do a = stream.next();
  while (a && plan.routes[a->route].name != "users");
  REQUIRE(a.has_value());
  const std::string id = a->path.substr(4, a->path.find('}') - 4);
  CHECK(std::stoi(id) >= 1);
  CHECK(a->path == "/u/{" + id + "}/" + a->request_id +
                       "?q={not a var}&s=" + std::to_string(a->seq) + "{unknown}");
  CHECK(a->body == R"({"id":)" + id + R"(,"nested":{"a":1}})");
}

TEST_CASE("the plan is a pure function of its inputs") {
  const Plan a = compile_plan(demo_scenario(), {});
  const Plan b = compile_plan(demo_scenario(), {});
  CHECK(a.plan_hash == b.plan_hash);
  CHECK(a.plan_hash.size() == 64);
  const auto xs = all_arrivals(a);
  const auto ys = all_arrivals(b);
  REQUIRE(xs.size() == ys.size());
  for (size_t i = 0; i < xs.size(); ++i) CHECK(arrival_to_json(xs[i]) == arrival_to_json(ys[i]));
}

TEST_CASE("any changed input changes the hash") {
  const std::string base = compile_plan(demo_scenario(), {}).plan_hash;
  std::set<std::string> hashes{base};
  auto distinct = [&](const Plan& p) { CHECK(hashes.insert(p.plan_hash).second); };
  distinct(compile_plan(demo_scenario(), PlanOverrides{43, std::nullopt, std::nullopt}));
  distinct(compile_plan(demo_scenario(), PlanOverrides{std::nullopt, 30.0, std::nullopt}));
  distinct(compile_plan(demo_scenario(), PlanOverrides{std::nullopt, std::nullopt, 20s}));
  Scenario w = demo_scenario();
  w.traffic.routes[0].weight = 71;
  distinct(compile_plan(w, {}));
  Scenario d = demo_scenario();
  d.phases[2].duration = 11s;
  distinct(compile_plan(d, {}));
  Scenario k = demo_scenario();
  k.fault_profiles[0].knobs[0].value_json = "1400";
  distinct(compile_plan(k, {}));
  Scenario asr = demo_scenario();
  asr.assertions[0].text = "during(trigger): p95(route=orders) > 700ms";
  distinct(compile_plan(asr, {}));
}

TEST_CASE("a different seed gives a different schedule of the same shape") {
  const auto a = all_arrivals(compile_plan(demo_scenario(), {}));
  const auto b = all_arrivals(compile_plan(demo_scenario(), PlanOverrides{7, {}, {}}));
  CHECK(a.size() == b.size());  // constant arrivals: the times do not depend on the seed
  int same_route = 0;
  for (size_t i = 0; i < a.size(); ++i) same_route += a[i].route == b[i].route;
  CHECK(same_route < static_cast<int>(a.size()));
}

TEST_CASE("overrides: --duration scales phases, --qps scales rates") {
  const Plan p = compile_plan(demo_scenario(), PlanOverrides{std::nullopt, 100.0, 8s});
  CHECK(p.total == 8s);
  CHECK(p.phases[0].length() == 2s);
  CHECK(p.phases[1].length() == 4s);
  CHECK(p.phases[2].length() == 2s);
  CHECK(p.base_rate == 100);
  CHECK(p.phases[0].rate_from == 100);
  CHECK(p.phases[1].rate_from == 160);  // the trigger's 80/s was 1.6x the base rate
  CHECK_THROWS_AS(compile_plan(demo_scenario(), PlanOverrides{std::nullopt, 0.0, std::nullopt}),
                  UsageError);
  CHECK_THROWS_AS(compile_plan(demo_scenario(), PlanOverrides{std::nullopt, std::nullopt, 2ms}),
                  UsageError);
}

TEST_CASE("golden: the first arrivals and the hash of the demo plan are pinned") {
  // A change here means every recorded plan hash changes: bump Plan::kAlgorithm and say so.
  const Plan plan = compile_plan(demo_scenario(), {});
  ArrivalStream stream(plan);
  const auto first = stream.next();
  REQUIRE(first);
  CHECK(first->intended == 0s);
  const auto second = stream.next();
  REQUIRE(second);
  CHECK(second->intended == 20ms);
  CHECK(arrival_to_json(*first) ==
        R"({"seq":0,"intended_us":0,"phase":0,"route":0,"method":"GET","path":"/users/368",)"
        R"("headers":[],"body":"","request_id":"fl-42-0",)"
        R"("traceparent":"00-632a3645102a3d4bfc59999de598f210-f01dadc059856bb9-01"})");
  // Pinned on g++ 12 and checked identical under clang 14 (tests/plan is built by both).
  CHECK(plan.plan_hash == "1ff15872115f0d4bf29057654dd90c44fe659242046b35fd4eb5a8208fcaaf38");
}

TEST_CASE("--duration keeps phase bounds on whole milliseconds") {
  const Plan p = compile_plan(demo_scenario(), PlanOverrides{std::nullopt, std::nullopt, 16s});
  CHECK(p.total == 16s);
  for (const auto& ph : p.phases) CHECK(ph.start.count() % 1000 == 0);
  CHECK(p.phases[1].start == 4s);
  CHECK(p.phases[2].start == 12s);
  const Plan q = compile_plan(demo_scenario(), PlanOverrides{std::nullopt, std::nullopt, 7s});
  CHECK(q.phases[1].start == 1750ms);
  CHECK(q.phases[2].start == 5250ms);
  CHECK(q.total == 7s);
}

TEST_CASE("--duration rounds every phase but the last down to whole milliseconds") {
  // 1.001 s over 10 s + 20 s + 10 s: 250.25 ms and 500.5 ms round down to 250 ms and 500 ms;
  // the last phase takes the rest, 251 ms.
  const Plan p = compile_plan(demo_scenario(), PlanOverrides{std::nullopt, std::nullopt, 1001ms});
  CHECK(p.phases[0].end == 250ms);
  CHECK(p.phases[1].end == 750ms);
  CHECK(p.phases[2].end == 1001ms);
}

TEST_CASE("--duration refuses to leave any phase, the last included, shorter than 1 ms") {
  Scenario s = demo_scenario();
  s.phases = {PhaseSpec{"long", 10s, std::nullopt, std::nullopt, {}, {}},
              PhaseSpec{"short", 1s, std::nullopt, std::nullopt, {}, {}}};
  // 10.5 ms: 9 ms and 1.5 ms. 9.9 ms: 9 ms and 0.9 ms, too short.
  const Plan ok = compile_plan(s, PlanOverrides{std::nullopt, std::nullopt, 10500us});
  CHECK(ok.phases[1].length() == 1500us);
  CHECK_THROWS_WITH_AS(compile_plan(s, PlanOverrides{std::nullopt, std::nullopt, 9900us}),
                       doctest::Contains("leaves phase 'short' shorter than 1ms"), UsageError);
}

TEST_CASE("--qps scales both ends of a ramp") {
  const Plan p = compile_plan(demo_scenario(), PlanOverrides{std::nullopt, 100.0, std::nullopt});
  CHECK(p.phases[2].rate_from == 160);  // 80 -> 20 at a base of 50, now 100
  CHECK(p.phases[2].rate_to == 40);
}

TEST_CASE("phase_at: a phase holds its start and not its end") {
  const Plan p = compile_plan(demo_scenario(), {});
  REQUIRE(p.phase_at(0s));
  CHECK(p.phase_at(0s)->name == "warmup");
  REQUIRE(p.phase_at(10s - 1us));
  CHECK(p.phase_at(10s - 1us)->name == "warmup");
  REQUIRE(p.phase_at(10s));
  CHECK(p.phase_at(10s)->name == "trigger");
  CHECK(p.phase_at(40s) == nullptr);  // the end of the last phase
}

TEST_CASE("arrival times are rounded down to whole microseconds") {
  Scenario s = demo_scenario();
  s.phases = {PhaseSpec{"only", 2s, 3.0, std::nullopt, {}, {}}};
  const auto arrivals = all_arrivals(compile_plan(s, {}));
  REQUIRE(arrivals.size() == 6);
  CHECK(arrivals[1].intended == 333333us);  // 1/3 s
  CHECK(arrivals[2].intended == 666666us);  // 2/3 s
  CHECK(arrivals[3].intended == 1s);
}

TEST_CASE("the fault timeline has a step only where a service's knobs change") {
  Scenario s = demo_scenario();
  // The trigger's profile held over two phases: one apply when it starts, one reset after.
  s.phases.insert(s.phases.begin() + 2, PhaseSpec{"trigger2",
                                                  5s,
                                                  std::nullopt,
                                                  std::nullopt,
                                                  {PhaseFault{"slow-payment", {}, {}, {}}},
                                                  {}});
  const Plan p = compile_plan(s, {});
  REQUIRE(p.fault_steps.size() == 2);
  CHECK(p.fault_steps[0].at == 10s);
  CHECK_FALSE(p.fault_steps[0].is_reset());
  CHECK(p.fault_steps[1].at == 35s);
  CHECK(p.fault_steps[1].is_reset());
}

TEST_CASE("plan_from_json rebuilds the plan: same hash, same arrivals") {
  Scenario s = demo_scenario();
  s.traffic.arrival = ArrivalProcess::kPoisson;
  s.traffic.routes[0].vars.push_back({"tag", VarSpec::Kind::kSequence, 0, 0, 0, 1.0, {}, 5, 3, {}});
  s.abort_if.push_back({"overall: error_rate > 50%", {}});
  const Plan original = compile_plan(s, PlanOverrides{9, 60.0, 12s});
  const Plan rebuilt = plan_from_json(plan_to_json(original, 0, true));
  CHECK(rebuilt.plan_hash == original.plan_hash);
  CHECK(rebuilt.scrape_ticks == original.scrape_ticks);
  CHECK(canonical_plan_json(rebuilt) == canonical_plan_json(original));
  const auto a = all_arrivals(original);
  const auto b = all_arrivals(rebuilt);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) REQUIRE(arrival_to_json(a[i]) == arrival_to_json(b[i]));
}

TEST_CASE("plan_from_json refuses edited or foreign plans") {
  const std::string json = plan_to_json(compile_plan(demo_scenario(), {}), 0, false);
  std::string edited = json;
  edited.replace(edited.find("\"seed\":42"), 9, "\"seed\":43");
  CHECK_THROWS_WITH_AS(plan_from_json(edited), doctest::Contains("does not hash"), UsageError);
  std::string foreign = json;
  foreign.replace(foreign.find("faultline-plan/1"), 16, "faultline-plan/9");
  CHECK_THROWS_WITH_AS(plan_from_json(foreign), doctest::Contains("faultline-plan/9"), UsageError);
  CHECK_THROWS_AS(plan_from_json("{}"), UsageError);
  CHECK_THROWS_AS(plan_from_json("not json"), UsageError);
}
