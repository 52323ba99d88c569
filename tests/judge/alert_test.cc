// alert(NAME) conditions: parsing and printing, where the checker refuses them, and how the
// evaluator judges fires / fires within / never fires / resolved from an alert's reads,
// including the reads of a RunObservations fed like a Prometheus pull.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "dsl/check.h"
#include "dsl/parser.h"
#include "dsl/printer.h"
#include "judge/evaluator.h"
#include "parse_statement.h"
#include "plan/compiler.h"
#include "recorded/run_observations.h"

using namespace faultline;
using namespace faultline::judge;
using namespace std::chrono_literals;
using faultline::testing::parse;

namespace {

// An alert source: per alert name, (plan time, firing) reads; remembers the windows asked.
class AlertSource : public MetricSource {
 public:
  std::map<std::string, std::vector<std::pair<Duration, bool>>> reads;
  mutable std::vector<TimeWindow> asked;
  Observed client(const TimeWindow&, const ClientQuery&) const override { return {}; }
  Observed server(const TimeWindow&, const ServerQuery&) const override { return {}; }
  AlertReads alert(const TimeWindow& w, const std::string& name) const override {
    asked.push_back(w);
    AlertReads out;
    auto it = reads.find(name);
    if (it == reads.end()) return {{}, "no such alert in this table", ""};
    for (const auto& [at, firing] : it->second)
      if (at >= w.start && at <= w.end) out.firing.emplace_back(at, firing);
    return out;
  }
};

std::vector<PhaseWindow> phases() {
  return {PhaseWindow{"warmup", 0s, 10s, 10, 10}, PhaseWindow{"trigger", 10s, 40s, 10, 10},
          PhaseWindow{"cooldown", 40s, 60s, 10, 10}};
}

// The alert reads every second of the run: firing from `from` (inclusive) to `to` (exclusive).
std::vector<std::pair<Duration, bool>> firing_between(Duration from, Duration to) {
  std::vector<std::pair<Duration, bool>> out;
  for (Duration t = 0s; t <= 60s; t += 1s) out.emplace_back(t, t >= from && t < to);
  return out;
}

Verdict judge_text(const std::string& text, const MetricSource& source) {
  return evaluate(parse(text), phases(), source, JudgeOptions{});
}

}  // namespace

TEST_CASE("alert conditions parse and print in their canonical form") {
  for (const char* text : {"during(trigger): alert(OrdersLatencyHigh) fires within 1m",
                           "during(trigger): alert(OrdersLatencyHigh) fires",
                           "during(warmup): alert(OrdersLatencyHigh) never fires",
                           "after(cooldown): alert(OrdersLatencyHigh) resolved",
                           "during(trigger): alert(\"with space\") fires and p95 > 800ms"}) {
    const auto r = dsl::parse_statement(text, dsl::StatementKind::kAssertion);
    INFO(text, " -> ", r.error.message);
    REQUIRE(r.ok());
    CHECK(dsl::to_string(*r.statement) == text);
  }
  const auto within = dsl::parse_statement("during(trigger): alert(A) fires within 60s",
                                           dsl::StatementKind::kAssertion);
  REQUIRE(within.ok());
  const dsl::Condition& c = *within.statement->condition;
  CHECK(c.kind == dsl::Condition::Kind::kAlert);
  CHECK(c.alert == "A");
  REQUIRE(c.alert_within);
  CHECK(*c.alert_within == 60s);
  CHECK_FALSE(within.statement->recovery);  // `within` belongs to the alert here
  // A group holding only an alert condition is a condition group.
  CHECK(dsl::parse_statement("during(trigger): (alert(A) resolved) or p95 < 1s",
                             dsl::StatementKind::kAssertion)
            .ok());
}

TEST_CASE("alert conditions: what does not parse, and where the checker refuses them") {
  auto error = [](const char* text) {
    return dsl::parse_statement(text, dsl::StatementKind::kAssertion).error.message;
  };
  CHECK(error("during(trigger): alert(A)") ==
        "expected 'fires', 'never fires' or 'resolved' after alert(A)");
  CHECK(error("during(trigger): alert(A) never") == "expected 'never fires'");
  CHECK(error("during(trigger): alert() fires") == "expected the name of an alert, found ')'");
  CHECK(error("during(trigger): alert(A) fires within 5") == "'within' needs a duration, not '5'");

  dsl::DslContext ctx;
  ctx.phases = {"warmup", "trigger", "cooldown"};
  auto problems =
      dsl::check_statement("during(trigger): alert(A) fires", ctx, dsl::StatementKind::kAbortIf);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message == "alert(A) cannot be used in abort_if");
  problems = dsl::check_statement("after(trigger): alert(A) resolved within 10s", ctx,
                                  dsl::StatementKind::kAssertion);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].message == "alert(A) in a statement with a recovery 'within'");
  CHECK(dsl::check_statement("during(trigger): alert(A) fires within 30s", ctx,
                             dsl::StatementKind::kAssertion)
            .empty());
}

TEST_CASE("fires: at some read of the window, and within D of its start when D is given") {
  AlertSource src;
  src.reads["A"] = firing_between(25s, 45s);  // 15 s into trigger, until 5 s into cooldown
  CHECK(judge_text("during(trigger): alert(A) fires", src).status == VerdictStatus::kPass);
  CHECK(judge_text("during(trigger): alert(A) fires within 20s", src).status ==
        VerdictStatus::kPass);
  CHECK(judge_text("during(trigger): alert(A) fires within 15s", src).status ==
        VerdictStatus::kPass);  // exactly at the limit
  const Verdict late = judge_text("during(trigger): alert(A) fires within 14s", src);
  CHECK(late.status == VerdictStatus::kFail);
  CHECK(late.message.find("first firing 15s into the window") != std::string::npos);
  const Verdict warm = judge_text("during(warmup): alert(A) fires", src);
  CHECK(warm.status == VerdictStatus::kFail);
  CHECK(warm.message.find("never firing in the window (11 reads)") != std::string::npos);
}

TEST_CASE("never fires and resolved: no false positive, and quiet at the window's end") {
  AlertSource src;
  src.reads["A"] = firing_between(25s, 45s);
  CHECK(judge_text("during(warmup): alert(A) never fires", src).status == VerdictStatus::kPass);
  CHECK(judge_text("during(trigger): alert(A) never fires", src).status == VerdictStatus::kFail);
  // after(cooldown) is [50 s, 60 s): quiet since 45 s.
  CHECK(judge_text("after(cooldown): alert(A) resolved", src).status == VerdictStatus::kPass);
  src.reads["A"] = firing_between(25s, 61s);
  const Verdict still = judge_text("after(cooldown): alert(A) resolved", src);
  CHECK(still.status == VerdictStatus::kFail);
  CHECK(still.message.find("still firing at the window's last read") != std::string::npos);
}

TEST_CASE("no reads at all is inconclusive, with the source's reason") {
  AlertSource src;
  const Verdict v = judge_text("during(trigger): alert(Unknown) fires", src);
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message.find("no such alert in this table") != std::string::npos);
  class Plain : public MetricSource {
    Observed client(const TimeWindow&, const ClientQuery&) const override { return {}; }
    Observed server(const TimeWindow&, const ServerQuery&) const override { return {}; }
  } none;
  const Verdict no_source = judge_text("during(trigger): alert(A) fires", none);
  CHECK(no_source.status == VerdictStatus::kInconclusive);
  CHECK(no_source.message.find("did not observe through one") != std::string::npos);
}

TEST_CASE("RunObservations reads alerts from @alerts scrapes: an absent series is not firing") {
  Plan plan;
  plan.phases = phases();
  plan.total = 60s;
  plan.metrics_of_interest = {"http_requests_total"};  // ALERTS is kept all the same
  RunObservations obs(plan, {}, plan.metrics_of_interest);
  std::vector<Duration> ticks;
  for (Duration t = 0s; t <= 60s; t += 5s) ticks.push_back(t);
  for (size_t i = 0; i < ticks.size(); ++i) {
    std::string body;  // no alert pending or firing: a successful read with no series
    if (ticks[i] >= 20s && ticks[i] < 45s)
      body = "ALERTS{alertname=\"A\",alertstate=\"firing\",job=\"api\"} 1\n";
    else if (ticks[i] == 15s)
      body = "ALERTS{alertname=\"A\",alertstate=\"pending\"} 1\n";
    obs.scrape_done(kAlertsJob, i, ticks, body, "");
  }
  const auto verdict = [&](const std::string& text) {
    return evaluate(parse(text), plan.phases, obs, JudgeOptions{});
  };
  CHECK(verdict("during(warmup): alert(A) never fires").status == VerdictStatus::kPass);
  CHECK(verdict("during(trigger): alert(A) fires within 10s").status == VerdictStatus::kPass);
  CHECK(verdict("during(trigger): alert(A) fires within 9s").status == VerdictStatus::kFail);
  CHECK(verdict("after(cooldown): alert(A) resolved").status == VerdictStatus::kPass);
  CHECK(verdict("during(trigger): alert(B) never fires").status == VerdictStatus::kPass);
  const Verdict none = evaluate(parse("during(trigger): alert(A) fires"), plan.phases,
                                RunObservations(plan, {}, {}), JudgeOptions{});
  CHECK(none.status == VerdictStatus::kInconclusive);
  CHECK(none.message.find("no alert state was recorded") != std::string::npos);
}
