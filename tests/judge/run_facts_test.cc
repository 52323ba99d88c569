// The id history (lost, duplicated, unexpected on ids, not counters), reading applied ids from
// a verify hook's JSON, and judging history.* / verify.* statements from RunFacts.
#include "judge/run_facts.h"

#include <doctest/doctest.h>

#include "dsl/parser.h"
#include "judge/evaluator.h"

using namespace faultline;
using namespace faultline::judge;

namespace {

// Answers run facts only, as the recorded observations do once the verify hooks ran.
class FactsSource : public MetricSource {
 public:
  explicit FactsSource(RunFacts facts) : facts_(std::move(facts)) {}
  Observed client(const TimeWindow&, const ClientQuery&) const override {
    return {std::nullopt, 0, "no samples"};
  }
  Observed server(const TimeWindow&, const ServerQuery&) const override {
    return {std::nullopt, 0, "no scrapes"};
  }
  Observed run_fact(const dsl::RunFactQuery& q) const override {
    return answer_run_fact(facts_, q);
  }

 private:
  RunFacts facts_;
};

Verdict judge_text(const std::string& text, const RunFacts& facts) {
  const auto parsed = dsl::parse_statement(text, dsl::StatementKind::kAssertion);
  REQUIRE(parsed.ok());
  const std::vector<PhaseWindow> phases{{"steady", Duration{0}, std::chrono::seconds(10), 1, 1}};
  JudgeOptions options;
  options.guard.min_requests = 20;  // a fact is exact: the traffic guard must not apply
  return evaluate(*parsed.statement, phases, FactsSource(facts), options);
}

}  // namespace

TEST_CASE("one lost and one duplicated order are both found, though the counts agree") {
  // 4 orders acknowledged, 4 entries applied: a counter check says all is well.
  const IdHistory h = compute_id_history({{3, "o-3"}, {1, "o-1"}, {2, "o-2"}, {4, "o-4"}},
                                         {"o-1", "o-2", "o-2", "o-4"});
  CHECK(h.acknowledged == 4);
  CHECK(h.applied == 4);
  CHECK(h.lost.count == 1);
  CHECK(h.lost.examples == std::vector<std::string>{"o-3"});
  CHECK(h.duplicated.count == 1);
  CHECK(h.duplicated.examples == std::vector<std::string>{"o-2"});
  CHECK(h.unexpected.count == 0);
}

TEST_CASE("unexpected ids are applied but never acknowledged, each listed once") {
  const IdHistory h = compute_id_history({{1, "a"}}, {"a", "x", "x", "y"});
  CHECK(h.lost.count == 0);
  CHECK(h.unexpected.count == 2);
  CHECK(h.unexpected.examples == std::vector<std::string>{"x", "y"});
  CHECK(h.duplicated.examples == std::vector<std::string>{"x"});
}

TEST_CASE("an id acknowledged twice counts once, and examples stop at twenty in seq order") {
  std::vector<std::pair<uint64_t, std::string>> acked;
  for (uint64_t i = 30; i-- > 0;) acked.emplace_back(i, "id" + std::to_string(i));
  acked.emplace_back(100, "id0");  // the same id acknowledged again
  const IdHistory h = compute_id_history(acked, {});
  CHECK(h.acknowledged == 30);
  CHECK(h.lost.count == 30);
  REQUIRE(h.lost.examples.size() == IdSet::kMaxExamples);
  CHECK(h.lost.examples.front() == "id0");
  CHECK(h.lost.examples.back() == "id19");
}

TEST_CASE("applied ids are read as strings or whole numbers, and anything else is refused") {
  std::vector<std::string> ids;
  std::string error;
  REQUIRE(applied_ids_from_json(R"({"applied":["a",7,"7"]})", "/applied", &ids, &error));
  CHECK(ids == std::vector<std::string>{"a", "7", "7"});
  CHECK_FALSE(applied_ids_from_json("not json", "/applied", &ids, &error));
  CHECK(error.find("not JSON") != std::string::npos);
  CHECK_FALSE(applied_ids_from_json(R"({"applied":3})", "/applied", &ids, &error));
  CHECK(error.find("not an array") != std::string::npos);
  CHECK_FALSE(applied_ids_from_json(R"({"x":[]})", "/applied", &ids, &error));
  CHECK(error.find("nothing at") != std::string::npos);
  CHECK_FALSE(applied_ids_from_json(R"({"applied":[1.5]})", "/applied", &ids, &error));
  CHECK(error.find("/applied/0") != std::string::npos);
}

TEST_CASE("history statements pass and fail on the sets, with no traffic guard") {
  RunFacts facts;
  facts.history = compute_id_history({{1, "a"}, {2, "b"}}, {"a", "a"});
  CHECK(judge_text("overall: history.lost == 1 and history.duplicated == 1", facts).status ==
        VerdictStatus::kPass);
  const Verdict v = judge_text("overall: history.lost == 0", facts);
  CHECK(v.status == VerdictStatus::kFail);
  CHECK(v.message.find("history.lost") != std::string::npos);
  CHECK(judge_text("overall: history.acknowledged == 2", facts).status == VerdictStatus::kPass);
  CHECK(judge_text("overall: history.applied == 2", facts).status == VerdictStatus::kPass);
}

TEST_CASE("without a history, history statements are inconclusive and say why") {
  RunFacts facts;
  facts.no_history = "no verify hook gives applied_ids, so there is no id history";
  const Verdict v = judge_text("overall: history.lost == 0", facts);
  CHECK(v.status == VerdictStatus::kInconclusive);
  CHECK(v.message.find("no verify hook gives applied_ids") != std::string::npos);
}

TEST_CASE("verify.<hook>(pointer) reads a number, an array's length or the whole output") {
  RunFacts facts;
  facts.verify["effects"] = {true, "", R"({"count": 42, "applied": ["a","b","c"]})"};
  facts.verify["wc"] = {true, "", "17\n"};
  facts.verify["broken"] = {false, "exited with 1", ""};
  CHECK(judge_text(R"(overall: verify.effects("/count") == 42)", facts).status ==
        VerdictStatus::kPass);
  CHECK(judge_text(R"(overall: verify.effects("/applied") == 3)", facts).status ==
        VerdictStatus::kPass);
  CHECK(judge_text(R"(overall: verify.wc("") == 17)", facts).status == VerdictStatus::kPass);
  const Verdict missing = judge_text(R"(overall: verify.effects("/nope") == 1)", facts);
  CHECK(missing.status == VerdictStatus::kInconclusive);
  CHECK(missing.message.find("nothing at /nope") != std::string::npos);
  const Verdict failed = judge_text(R"(overall: verify.broken("/n") == 1)", facts);
  CHECK(failed.status == VerdictStatus::kInconclusive);
  CHECK(failed.message.find("exited with 1") != std::string::npos);
}
