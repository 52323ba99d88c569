// Regex matchers judged end to end: statement text -> checker -> evaluator -> a MetricSource
// over a real ScrapeStore, whose LabelMatchers run RE2 on the scraped label values. A label
// value of 20k+ characters used to crash faultline here (the ECMAScript engine recursed once
// per character; how far it got depended on the pattern and the stack), in abort_if with the
// fault still applied.
#include <doctest/doctest.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "dsl/check.h"
#include "dsl/parser.h"
#include "judge/evaluator.h"
#include "observe/label_matcher.h"
#include "observe/scrape_store.h"

using namespace faultline;
using namespace faultline::judge;
using namespace std::chrono_literals;

namespace {

// Gauges from a ScrapeStore, with the DSL's matchers turned into observe::LabelMatchers, as the
// run's observations do. Client metrics are not part of these tests.
class ScrapeStoreSource : public MetricSource {
 public:
  explicit ScrapeStoreSource(const observe::ScrapeStore& store) : store_(store) {}

  Observed client(const TimeWindow&, const ClientQuery&) const override {
    return Observed{std::nullopt, 0, "no client samples in this test"};
  }

  Observed server(const TimeWindow& w, const ServerQuery& q) const override {
    observe::SeriesSelector selector;
    selector.metric = q.metric_name;
    for (const LabelMatcher& m : q.matchers) {
      const auto op = observe::parse_match_op(m.op);
      REQUIRE(op.has_value());
      selector.matchers.emplace_back(m.name, *op, m.value);
    }
    REQUIRE(q.function == "max");
    const observe::WindowValue v =
        store_.gauge(observe::GaugeFunction::kMax, selector, {w.start, w.end});
    Observed out;
    out.sample_count = static_cast<int64_t>(v.scrapes);
    if (std::isnan(v.value)) {
      out.note = "no matching series";
    } else {
      out.value = v.value;
    }
    return out;
  }

 private:
  const observe::ScrapeStore& store_;
};

std::vector<PhaseWindow> phases() {
  return {PhaseWindow{"warmup", 0s, 10s, 10, 10}, PhaseWindow{"trigger", 10s, 35s, 10, 10}};
}

// Checks `text` as validate does, then parses it.
dsl::Statement checked(const std::string& text, dsl::StatementKind kind) {
  dsl::DslContext ctx;
  ctx.phases = {"warmup", "trigger"};
  ctx.services = {"api"};
  const auto problems = dsl::check_statement(text, ctx, kind);
  CHECK_MESSAGE(problems.empty(), (problems.empty() ? "" : problems.front().message));
  auto parsed = dsl::parse_statement(text, kind);
  REQUIRE(parsed.ok());
  return *parsed.statement;
}

// One scrape per second of `api` during both phases: a series whose `path` label is
// `huge_path` (depth 7) and one with a short path (depth 1).
observe::ScrapeStore store_with(const std::string& huge_path) {
  observe::ScrapeStore store;
  const std::string body = "# TYPE queue_depth gauge\nqueue_depth{path=\"" + huge_path +
                           "\"} 7\nqueue_depth{path=\"/health\"} 1\n";
  for (int s = 0; s < 35; ++s) {
    const auto error = store.add_scrape_text("api", std::chrono::seconds(s), body);
    REQUIRE_MESSAGE(!error, error.value_or(""));
  }
  return store;
}

}  // namespace

TEST_CASE("an assertion with =~ and !~ on a 50k-character label value is judged") {
  const std::string huge = "/api/" + std::string(50'000, 'x');
  const observe::ScrapeStore store = store_with(huge);
  const ScrapeStoreSource source(store);

  const Verdict matched =
      evaluate(checked("during(trigger): metric.max(queue_depth{path=~\"/api/x+\"}) > 5",
                       dsl::StatementKind::kAssertion),
               phases(), source, {});
  CHECK_MESSAGE(matched.status == VerdictStatus::kPass, matched.message);

  // !~ leaves only the short series; anchoring means "/api" alone matches neither.
  const Verdict not_matched =
      evaluate(checked("during(trigger): metric.max(queue_depth{path!~\"/api/.*\"}) < 5",
                       dsl::StatementKind::kAssertion),
               phases(), source, {});
  CHECK_MESSAGE(not_matched.status == VerdictStatus::kPass, not_matched.message);
  const Verdict anchored =
      evaluate(checked("during(trigger): metric.max(queue_depth{path=~\"/api\"}) > 0",
                       dsl::StatementKind::kAssertion),
               phases(), source, {});
  CHECK(anchored.status != VerdictStatus::kPass);
}

TEST_CASE("abort_if with =~ on a 200k-character label value fires mid-phase") {
  const observe::ScrapeStore store = store_with("/api/" + std::string(200'000, 'y'));
  const ScrapeStoreSource source(store);
  const dsl::Statement stmt =
      checked("during(trigger): metric.max(queue_depth{path=~\"/api/y*\"}) > 5",
              dsl::StatementKind::kAbortIf);
  const std::optional<Verdict> v = evaluate_abort_if(stmt, phases(), 20s, source, {});
  REQUIRE(v.has_value());
  CHECK_MESSAGE(v->status == VerdictStatus::kPass, v->message);  // holds: the run aborts
}

TEST_CASE("a 30k-character alternation of 3000 ids passes the checker and selects its series") {
  std::string ids;
  for (int i = 0; i < 3000; ++i)
    ids += (i ? "|" : "") + std::string("/orders/") + std::to_string(i);
  REQUIRE(ids.size() > 30'000);
  const observe::ScrapeStore store = store_with("/orders/2999");
  const ScrapeStoreSource source(store);
  const Verdict v =
      evaluate(checked("during(trigger): metric.max(queue_depth{path=~\"" + ids + "\"}) == 7",
                       dsl::StatementKind::kAssertion),
               phases(), source, {});
  CHECK_MESSAGE(v.status == VerdictStatus::kPass, v.message);
}
