// Verdicts name why a server value is missing or thin - the failed scrapes and their first
// reason - instead of advising more traffic, and repeat a source's remark on a value it gave
// (issue 8, item 7).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dsl/parser.h"
#include "judge/evaluator.h"

using namespace faultline;
using namespace faultline::judge;
using namespace std::chrono_literals;

namespace {

// Gives every server query the same answer.
class OneAnswer : public MetricSource {
 public:
  explicit OneAnswer(Observed answer) : answer_(std::move(answer)) {}
  Observed client(const TimeWindow&, const ClientQuery&) const override { return answer_; }
  Observed server(const TimeWindow&, const ServerQuery&) const override { return answer_; }

 private:
  Observed answer_;
};

Verdict judge_text(const std::string& text, const Observed& answer) {
  auto r = dsl::parse_statement(text, dsl::StatementKind::kAssertion);
  INFO(text, ": ", r.error.message);
  REQUIRE(r.ok());
  const std::vector<PhaseWindow> phases = {PhaseWindow{"warmup", 0s, 10s, 10, 10},
                                           PhaseWindow{"trigger", 10s, 30s, 10, 10}};
  return evaluate(*r.statement, phases, OneAnswer(answer), JudgeOptions{});
}

constexpr const char* kP95 =
    "during(trigger): metric.p95(http_request_duration_seconds{job=\"api\"}) < 500ms";
const std::string kFailures =
    "12 scrape(s) failed in the window; the first, api at 10s: metrics text: line 3:5: "
    "expected a value after the metric, got end of line";

}  // namespace

TEST_CASE("no value because scrapes failed: the verdict gives the count and the first reason") {
  Observed o;
  o.note = kFailures;
  o.failures = kFailures;
  const Verdict v = judge_text(kP95, o);
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message.find(kFailures) != std::string::npos);
  CHECK(v.message.find("traffic guard") == std::string::npos);
  CHECK(v.message.find("raise the rate") == std::string::npos);
  // Said once, not twice.
  CHECK(v.message.find("12 scrape(s)") == v.message.rfind("12 scrape(s)"));
}

TEST_CASE("a thin value because scrapes failed: the reason, not the advice to send more") {
  Observed o;
  o.value = 0.3;
  o.sample_count = 4;  // below min_histogram_count (20)
  o.failures = kFailures;
  const Verdict v = judge_text(kP95, o);
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message.find("only 4 observations") != std::string::npos);
  CHECK(v.message.find("need >= 20: " + kFailures) != std::string::npos);
  CHECK(v.message.find("raise the rate") == std::string::npos);

  // Without failures the advice stays.
  o.failures.clear();
  CHECK(judge_text(kP95, o).message.find("raise the rate") != std::string::npos);
}

TEST_CASE("a value judged despite failed scrapes or with a remark says so in the verdict") {
  Observed o;
  o.value = 0.3;
  o.sample_count = 400;
  o.failures = "1 scrape(s) failed in the window; the first, api at 12s: HTTP 503";
  o.note = "buckets were not monotonic; fixed up as Prometheus does";
  const Verdict v = judge_text(kP95, o);
  CHECK(v.status == VerdictStatus::kPass);
  CHECK(v.message.find("(metric.p95(http_request_duration_seconds{job=\"api\"}): 1 scrape(s) "
                       "failed in the window; the first, api at 12s: HTTP 503") !=
        std::string::npos);
  CHECK(v.message.find("buckets were not monotonic; fixed up as Prometheus does") !=
        std::string::npos);
}
