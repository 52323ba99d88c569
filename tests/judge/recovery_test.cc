// Recovery statements (`after(P): <condition> within D`) judged over synthetic timelines:
// the source answers each bucket or scrape from a function of its window, as a run would.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "dsl/parser.h"
#include "dsl/printer.h"
#include "judge/evaluator.h"
#include "parse_statement.h"

using namespace faultline;
using namespace faultline::judge;
using namespace std::chrono_literals;
using faultline::testing::parse;

namespace {

// Answers every question with a function of (canonical query, window); remembers the
// windows asked as "query@[start_s,end_s)" with times in microseconds.
class TimelineSource : public MetricSource {
 public:
  using Answer = std::function<Observed(const std::string& query, const TimeWindow& w)>;
  explicit TimelineSource(Answer answer) : answer_(std::move(answer)) {}
  Observed client(const TimeWindow& w, const ClientQuery& q) const override {
    return ask(dsl::to_string(q), w);
  }
  Observed server(const TimeWindow& w, const ServerQuery& q) const override {
    return ask(dsl::to_string(q), w);
  }
  mutable std::vector<std::string> asked;

 private:
  Observed ask(const std::string& query, const TimeWindow& w) const {
    asked.push_back(query + "@[" + std::to_string(w.start.count()) + "," +
                    std::to_string(w.end.count()) + ")");
    return answer_(query, w);
  }
  Answer answer_;
};

// warmup [0s, 10s), trigger [10s, 35s), cooldown [35s, 55s): after(trigger) judges cooldown.
std::vector<PhaseWindow> phases() {
  return {PhaseWindow{"warmup", 0s, 10s, 50, 50}, PhaseWindow{"trigger", 10s, 35s, 50, 50},
          PhaseWindow{"cooldown", 35s, 55s, 50, 50}};
}

// Client p95 per 1 s bucket: `slow` (900ms) in the buckets that end at the listed seconds of
// plan time, 200ms elsewhere; 50 requests per bucket unless listed in `thin` (5 requests).
TimelineSource p95_timeline(
    std::function<bool(int64_t end_s)> slow,
    std::function<bool(int64_t end_s)> thin = [](int64_t) { return false; }) {
  return TimelineSource([=](const std::string&, const TimeWindow& w) {
    const int64_t end_s = w.end.count() / 1'000'000;
    return Observed{slow(end_s) ? 0.9 : 0.2, thin(end_s) ? 5 : 50, ""};
  });
}

// Scrape ticks every 2 s plus the phase ends (35s, 55s), as Plan::scrape_ticks has them.
JudgeOptions with_ticks() {
  JudgeOptions o;
  for (int64_t t = 0; t <= 54; t += 2) o.scrape_ticks.push_back(std::chrono::seconds(t));
  o.scrape_ticks.push_back(35s);
  o.scrape_ticks.push_back(55s);
  std::sort(o.scrape_ticks.begin(), o.scrape_ticks.end());
  return o;
}

// queue_depth as scraped at tick t: 37 up to 45s, then 5 (recovered at 46s, 11s after 35s),
// except at `spike_s` where it is back at 37.
TimelineSource queue_timeline(int64_t spike_s = -1) {
  return TimelineSource([=](const std::string& query, const TimeWindow& w) {
    if (query != "metric.last(queue_depth)") return Observed{std::nullopt, 0, "no series"};
    const int64_t at_s = w.start.count() / 1'000'000;
    if (w.end - w.start != 1us) return Observed{std::nullopt, 0, "not a single scrape"};
    return Observed{at_s <= 45 || at_s == spike_s ? 37.0 : 5.0, 1, ""};
  });
}

}  // namespace

TEST_CASE("a client figure that recovers in time passes with the measured recovery time") {
  // Slow until the bucket ending at 47s; fast from the bucket [47s, 48s) on: 13s after 35s.
  const TimelineSource src = p95_timeline([](int64_t s) { return s <= 47; });
  const Verdict v = evaluate(parse("after(trigger): p95 < 300ms within 15s"), phases(), src, {});
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(v.message ==
        "p95 < 300ms recovered after 13s (limit 15s) and held to the end of after(trigger) "
        "[35s..55s): at 13s observed 200ms over 50 requests in after(trigger) bucket "
        "[47s..48s)");
  CHECK(v.expected ==
        "p95 below 300ms from at most 15s after trigger ends to the end of after(trigger) "
        "[35s..55s)");
  REQUIRE(v.windows.size() == 1);
  CHECK(v.windows[0] == TimeWindow{35s, 55s, "after(trigger)"});
  REQUIRE(v.operands.size() == 2);
  CHECK(v.operands[0].what == "recovery time");
  CHECK(v.operands[0].observed.value == 13.0);
  CHECK(v.operands[0].value_text == "13s");
  CHECK(v.operands[0].observed.sample_count == 20);  // 20 one-second buckets
  CHECK(v.operands[0].observed.note == "limit 15s");
  CHECK(v.operands[1].what == "p95");
  CHECK(v.operands[1].window == TimeWindow{47s, 48s, "after(trigger) bucket [47s..48s)"});
  // Every bucket is read (so a runner that records the questions prepares all of them), and
  // nothing outside the recovery window.
  for (int64_t s = 35; s < 55; ++s) {
    const std::string bucket =
        "p95@[" + std::to_string(s * 1'000'000) + "," + std::to_string((s + 1) * 1'000'000) + ")";
    INFO(bucket);
    CHECK(std::find(src.asked.begin(), src.asked.end(), bucket) != src.asked.end());
  }
  for (const auto& q : src.asked) {
    INFO(q);
    CHECK(q.substr(q.find('[') + 1, 2) >= "35");  // no window starts before 35s
  }
}

TEST_CASE("a client figure that recovers too late fails with when it did recover") {
  const TimelineSource src = p95_timeline([](int64_t s) { return s <= 47; });
  const Verdict v = evaluate(parse("after(trigger): p95 < 300ms within 10s"), phases(), src, {});
  CHECK(v.status == VerdictStatus::kFail);
  CHECK(v.message ==
        "expected p95 < 300ms within 10s after trigger ended and to the end of after(trigger) "
        "[35s..55s); still not recovered at 10s after trigger ended: observed 900ms over 50 "
        "requests in after(trigger) bucket [44s..45s); recovered for good only after 13s");
  CHECK(v.operands[0].observed.value == 13.0);
  CHECK(v.operands[1].value_text == "900ms");
}

TEST_CASE("recovering and breaking again fails at the break") {
  // Slow up to 38s, fast, slow again in the bucket ending at 50s, fast after.
  const TimelineSource src = p95_timeline([](int64_t s) { return s <= 38 || s == 50; });
  const Verdict v = evaluate(parse("after(trigger): p95 < 300ms within 10s"), phases(), src, {});
  CHECK(v.status == VerdictStatus::kFail);
  CHECK(v.message ==
        "expected p95 < 300ms within 10s after trigger ended and to the end of after(trigger) "
        "[35s..55s); recovered after 4s but broke again at 15s after trigger ended: observed "
        "900ms over 50 requests in after(trigger) bucket [49s..50s); recovered for good only "
        "after 16s");
  CHECK(v.operands[0].value_text == "16s");
}

TEST_CASE("never recovering fails, with no recovery time") {
  const TimelineSource src = p95_timeline([](int64_t) { return true; });
  const Verdict v = evaluate(parse("after(trigger): p95 < 300ms within 10s"), phases(), src, {});
  CHECK(v.status == VerdictStatus::kFail);
  CHECK(v.message.find("still not recovered at 10s after trigger ended: observed 900ms") !=
        std::string::npos);
  CHECK(v.message.ends_with("; not recovered by the end (20s)"));
  CHECK_FALSE(v.operands[0].observed.value);
  CHECK(v.operands[0].value_text == "not recovered");
}

TEST_CASE("thin buckets are never recovered: inconclusive after the deadline, harmless before") {
  // Recovered at 13s, but the bucket ending at 52s has 5 requests (guard: 20).
  const TimelineSource thin_late =
      p95_timeline([](int64_t s) { return s <= 47; }, [](int64_t s) { return s == 52; });
  Verdict v = evaluate(parse("after(trigger): p95 < 300ms within 15s"), phases(), thin_late, {});
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message ==
        "cannot judge p95 < 300ms within 15s in after(trigger) [35s..55s): 1 of the 6 points "
        "from 15s after trigger ended on have no verdict; only 5 requests in after(trigger) "
        "bucket [51s..52s), need >= 20: raise the rate or lengthen the phase");
  // The recovery time is the final run of holding points: after the thin bucket.
  CHECK(v.operands[0].value_text == "18s");

  // Thin buckets before the deadline do not hide a recovery that holds from the deadline on.
  const TimelineSource thin_early =
      p95_timeline([](int64_t s) { return s <= 40; }, [](int64_t s) { return s == 43; });
  v = evaluate(parse("after(trigger): p95 < 300ms within 10s"), phases(), thin_early, {});
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(v.operands[0].value_text == "9s");  // from the bucket after the thin one: [43s..44s)

  // A failure after the deadline decides even with thin buckets around it.
  const TimelineSource thin_and_slow =
      p95_timeline([](int64_t s) { return s == 53; }, [](int64_t s) { return s == 50; });
  v = evaluate(parse("after(trigger): p95 < 300ms within 10s"), phases(), thin_and_slow, {});
  CHECK(v.status == VerdictStatus::kFail);
}

TEST_CASE("error_rate follows buckets with the traffic guard") {
  const TimelineSource src([](const std::string& q, const TimeWindow& w) {
    REQUIRE(q == "error_rate");
    const int64_t end_s = w.end.count() / 1'000'000;
    return Observed{end_s <= 39 ? 0.4 : 0.001, 100, ""};
  });
  const Verdict v =
      evaluate(parse("after(trigger): error_rate < 1% within 10s"), phases(), src, {});
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(v.message.starts_with("error_rate < 1% recovered after 5s (limit 10s)"));
  CHECK(
      v.message.ends_with("at 5s observed 0.1% over 100 requests in after(trigger) bucket "
                          "[39s..40s)"));
}

TEST_CASE("a server gauge is followed scrape by scrape") {
  const dsl::Statement s = parse("after(trigger): metric.last(queue_depth) < 10 within 12s");
  TimelineSource src = queue_timeline();
  Verdict v = evaluate(s, phases(), src, with_ticks());
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(v.message ==
        "metric.last(queue_depth) < 10 recovered after 11s (limit 12s) and held to the end of "
        "after(trigger) [35s..55s): at 11s observed 5 over 1 scrapes in after(trigger) scrape "
        "at 46s");
  CHECK(v.operands[0].observed.sample_count == 11);  // ticks 36, 38, ..., 54 and 55
  // The gauge is read in the single scrape at each tick.
  CHECK(std::find(src.asked.begin(), src.asked.end(),
                  "metric.last(queue_depth)@[46000000,46000001)") != src.asked.end());

  v = evaluate(parse("after(trigger): metric.last(queue_depth) < 10 within 10s"), phases(), src,
               with_ticks());
  CHECK(v.status == VerdictStatus::kFail);
  CHECK(v.message ==
        "expected metric.last(queue_depth) < 10 within 10s after trigger ended and to the end "
        "of after(trigger) [35s..55s); still not recovered at 9s after trigger ended: observed "
        "37 over 1 scrapes in after(trigger) scrape at 44s; recovered for good only after 11s");

  const TimelineSource spiky = queue_timeline(50);
  v = evaluate(s, phases(), spiky, with_ticks());
  CHECK(v.status == VerdictStatus::kFail);
  CHECK(v.message.find("recovered after 11s but broke again at 15s after trigger ended: "
                       "observed 37 over 1 scrapes in after(trigger) scrape at 50s") !=
        std::string::npos);
}

TEST_CASE("a server counter is read between consecutive scrapes") {
  const TimelineSource src([](const std::string&, const TimeWindow& w) {
    return Observed{w.end <= 40s ? 30.0 : 0.0, 2, ""};
  });
  const Verdict v = evaluate(parse("after(trigger): metric.rate(errors_total) < 1 within 8s"),
                             phases(), src, with_ticks());
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(v.operands[0].value_text == "7s");  // the first tick after 40s is 42s
  CHECK(v.message.ends_with("in after(trigger) scrapes (40s..42s]"));
  // The first interval starts at the phase end.
  CHECK(std::find(src.asked.begin(), src.asked.end(),
                  "metric.rate(errors_total)@[35000000,36000000)") != src.asked.end());
}

TEST_CASE("not enough data to judge a recovery is inconclusive with the reason") {
  const dsl::Statement s = parse("after(trigger): metric.last(queue_depth) < 10 within 10s");
  // No scrape times: the timeline of a server metric is unknown.
  const TimelineSource queue = queue_timeline();
  Verdict v = evaluate(s, phases(), queue, {});
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message ==
        "cannot judge metric.last(queue_depth) < 10 within 10s in after(trigger) [35s..55s): "
        "the scrape times are not known");

  // A limit shorter than the first scrape after the fault is lifted.
  JudgeOptions sparse;
  sparse.scrape_ticks = {0s, 10s, 20s, 30s, 35s, 40s, 50s, 55s};
  v = evaluate(parse("after(trigger): metric.last(queue_depth) < 10 within 3s"), phases(), queue,
               sparse);
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(
      v.message.ends_with("no point to judge by 3s after trigger ended: the first is 5s "
                          "after trigger ended"));

  // No data at all.
  const TimelineSource nothing([](const std::string&, const TimeWindow&) {
    return Observed{std::nullopt, 0, "no samples"};
  });
  v = evaluate(parse("after(trigger): p95 < 300ms within 10s"), phases(), nothing, {});
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message.find("no value for p95 in after(trigger) bucket [44s..45s): no samples") !=
        std::string::npos);
  CHECK(v.operands[0].value_text == "not recovered");

  // The last phase has nothing after it.
  v = evaluate(parse("after(cooldown): p95 < 300ms within 10s"), phases(), nothing, {});
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message ==
        "cannot judge after(cooldown): p95 < 300ms within 10s: no phase follows 'cooldown' to "
        "recover in");
}

TEST_CASE("a limit longer than the recovery window is judged by its end and said") {
  const TimelineSource src = p95_timeline([](int64_t s) { return s <= 47; });
  const Verdict v = evaluate(parse("after(trigger): p95 < 300ms within 30s"), phases(), src, {});
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(
      v.message.ends_with("(within 30s is longer than after(trigger) [35s..55s): judged as "
                          "recovered by its end)"));
}

TEST_CASE("client and server metrics together are read as of each point") {
  // p95 fast from the bucket ending at 40s, queue_depth low from the scrape at 46s.
  const TimelineSource src([](const std::string& q, const TimeWindow& w) {
    if (q == "p95") return Observed{w.end <= 39s ? 0.9 : 0.2, 50, ""};
    return Observed{w.start <= 45s ? 37.0 : 5.0, 1, ""};
  });
  const Verdict v =
      evaluate(parse("after(trigger): p95 < 300ms and metric.last(queue_depth) < 10 within 12s"),
               phases(), src, with_ticks());
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(v.operands[0].value_text == "11s");
  CHECK(v.message.ends_with(
      "at 11s: p95 < 300ms: observed 200ms over 50 requests in after(trigger) bucket "
      "[45s..46s); metric.last(queue_depth) < 10: observed 5 over 1 scrapes in after(trigger) "
      "scrape at 46s"));
}

TEST_CASE("cross-window values are read in their own window") {
  const TimelineSource src([](const std::string&, const TimeWindow& w) {
    if (w.start == 0s && w.end == 10s) return Observed{0.2, 500, ""};  // during(warmup)
    return Observed{w.end <= 40s ? 0.9 : 0.21, 50, ""};
  });
  const Verdict v = evaluate(parse("after(trigger): p95 < 1.2 * during(warmup).p95 within 10s"),
                             phases(), src, {});
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(v.operands[0].value_text == "6s");
  REQUIRE(v.windows.size() == 2);
  CHECK(v.windows[1] == TimeWindow{0s, 10s, "during(warmup)"});
}

TEST_CASE("a recovery statement never aborts a run") {
  const TimelineSource src = p95_timeline([](int64_t) { return false; });
  const auto v = evaluate_abort_if(
      parse("after(trigger): p95 < 300ms within 10s", dsl::StatementKind::kAbortIf), phases(), 50s,
      src, {});
  REQUIRE(v);
  CHECK(v->status == VerdictStatus::kInconclusive);
  CHECK(src.asked.empty());
}

TEST_CASE("long recovery windows get longer buckets, at most kMaxRecoveryBuckets") {
  const std::vector<PhaseWindow> long_phases{PhaseWindow{"trigger", 0s, 10s, 50, 50},
                                             PhaseWindow{"cooldown", 10s, 1810s, 50, 50}};
  const TimelineSource src = p95_timeline([](int64_t) { return false; });
  const Verdict v = evaluate(parse("after(trigger): p95 < 300ms within 10m"), long_phases, src, {});
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(v.operands[0].observed.sample_count == 600);  // 1800s in 3 s buckets
  CHECK(std::find(src.asked.begin(), src.asked.end(), "p95@[10000000,13000000)") !=
        src.asked.end());
}

TEST_CASE("judge_options carries the plan's scrape ticks") {
  Plan plan;
  plan.scrape_ticks = {0s, 1s, 2s};
  plan.guard.min_requests = 7;
  const JudgeOptions o = judge_options(plan);
  CHECK(o.scrape_ticks == plan.scrape_ticks);
  CHECK(o.guard.min_requests == 7);
}

TEST_CASE("client buckets are long enough for twice the traffic guard at the planned rate") {
  // cooldown is planned at 15/s (phases() say 50/s; this plan is slower), orders 25% of it.
  std::vector<PhaseWindow> slow = phases();
  slow[2].rate_from = slow[2].rate_to = 15;
  JudgeOptions o;
  o.phases = slow;
  o.guard.min_requests = 20;
  o.route_share = {{"orders", 0.25}, {"users", 0.75}};
  const TimelineSource all = p95_timeline([](int64_t) { return false; });
  evaluate(parse("after(trigger): p95 < 300ms within 15s"), slow, all, o);
  // 2 x 20 requests at 15/s take 2.67 s: buckets of 3 s from 35s.
  CHECK(std::find(all.asked.begin(), all.asked.end(), "p95@[35000000,38000000)") !=
        all.asked.end());
  CHECK(std::find(all.asked.begin(), all.asked.end(), "p95@[38000000,41000000)") !=
        all.asked.end());
  // route=orders gets 3.75/s: 40 requests take 10.67 s, so 11 s buckets.
  const TimelineSource orders = p95_timeline([](int64_t) { return false; });
  evaluate(parse("after(trigger): p95(route=orders) < 300ms within 15s"), slow, orders, o);
  CHECK(std::find(orders.asked.begin(), orders.asked.end(),
                  "p95(route=orders)@[35000000,46000000)") != orders.asked.end());
  // Without the plan's rates (e.g. a statement judged on its own): 1 s buckets.
  const TimelineSource bare = p95_timeline([](int64_t) { return false; });
  evaluate(parse("after(trigger): p95 < 300ms within 15s"), slow, bare, {});
  CHECK(std::find(bare.asked.begin(), bare.asked.end(), "p95@[35000000,36000000)") !=
        bare.asked.end());
}
