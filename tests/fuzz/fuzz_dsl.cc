// Fuzzes the assertion DSL end to end: lexer, parser, checker, canonical printer and the
// judge over a fake MetricSource. Invariants beyond "no crash, leak or hang":
// - every problem lies inside the text (offset + length <= size);
// - parse -> print -> parse succeeds and prints the same text (the plan hash relies on it);
// - judging a parsed statement never throws.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/rng.h"
#include "dsl/check.h"
#include "dsl/parser.h"
#include "dsl/printer.h"
#include "judge/evaluator.h"

namespace {

using namespace std::chrono_literals;
using faultline::judge::ClientQuery;
using faultline::judge::Observed;
using faultline::judge::ServerQuery;
using faultline::judge::TimeWindow;

// Deterministic answers derived from the question, including missing values, zeros and
// thin windows, so every evaluator path is reachable.
class HashSource : public faultline::judge::MetricSource {
 public:
  explicit HashSource(uint64_t salt) : salt_(salt) {}
  Observed client(const TimeWindow& w, const ClientQuery& q) const override {
    return answer(faultline::dsl::to_string(q), w);
  }
  Observed server(const TimeWindow& w, const ServerQuery& q) const override {
    return answer(faultline::dsl::to_string(q), w);
  }

 private:
  Observed answer(const std::string& query, const TimeWindow& w) const {
    const uint64_t h = faultline::mix64(faultline::fnv1a64(query + w.label) ^ salt_ ^
                                        static_cast<uint64_t>(w.start.count()));
    Observed o;
    o.sample_count = static_cast<int64_t>(h % 64);
    switch ((h >> 8) % 5) {
      case 0:
        o.note = "no samples";
        break;
      case 1:
        o.value = 0;
        break;
      default:
        o.value = static_cast<double>((h >> 16) % 5000) / 1000;
    }
    return o;
  }
  uint64_t salt_;
};

const std::vector<faultline::PhaseWindow>& phases() {
  static const std::vector<faultline::PhaseWindow> p{
      {"warmup", 0s, 10s, 10, 10}, {"trigger", 10s, 35s, 10, 10}, {"cooldown", 35s, 55s, 10, 10}};
  return p;
}

const faultline::dsl::DslContext& context() {
  static const faultline::dsl::DslContext ctx = [] {
    faultline::dsl::DslContext c;
    c.phases = {"warmup", "trigger", "cooldown"};
    c.routes = {"orders", "users"};
    c.services = {"api", "payment", "worker"};
    c.phase_durations = {{"warmup", 10s}, {"trigger", 25s}, {"cooldown", 20s}};
    return c;
  }();
  return ctx;
}

void judge(const faultline::dsl::Statement& s) {
  const HashSource a(1), b(2);
  const faultline::judge::JudgeOptions options;
  if (s.kind == faultline::dsl::StatementKind::kCompareGate) {
    (void)faultline::judge::evaluate_gate(s, phases(), a, b, options);
    return;
  }
  (void)faultline::judge::evaluate(s, phases(), a, options);
  for (const auto now : {5s, 20s, 40s, 60s}) {
    (void)faultline::judge::evaluate_abort_if(s, phases(), now, b, options);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using faultline::dsl::StatementKind;
  for (const auto kind :
       {StatementKind::kAssertion, StatementKind::kAbortIf, StatementKind::kCompareGate}) {
    for (const auto& p : faultline::dsl::check_statement(text, context(), kind)) {
      if (p.offset > size || p.length > size - p.offset) std::abort();
    }
    const auto parsed = faultline::dsl::parse_statement(text, kind);
    if (!parsed.ok()) continue;
    const std::string once = faultline::dsl::to_string(*parsed.statement);
    const auto again = faultline::dsl::parse_statement(once, kind);
    if (!again.ok() || faultline::dsl::to_string(*again.statement) != once) std::abort();
    judge(*parsed.statement);
  }
  return 0;
}
