// The syntax tree of one DSL statement (assertion, abort_if condition or compare gate), as
// produced by parser.h and printed canonically by printer.h. Plain values: copyable, no
// pointers into the source text. Spans locate each part in the text that was parsed, for
// problems reported by the checker; they do not take part in the statement's meaning.
//
// Invariants kept by the parser:
// - numbers are normalised: durations in seconds, percentages as fractions (2% = 0.02),
//   rates per second; a bare number compared with a client latency is milliseconds
//   (Literal::bare_milliseconds);
// - and/or nodes have two or more operands and never an operand of their own kind
//   (`a and (b and c)` is flattened), so parse -> print -> parse is a fixed point;
// - arithmetic nodes have two or more operands and their first operand is never itself an
//   arithmetic node (left-associative chains are flattened).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/units.h"
#include "dsl/metric_query.h"
#include "dsl/problem.h"

namespace faultline::dsl {

struct Span {
  size_t offset = 0;
  size_t length = 0;
};

// What a value measures. Decides which comparisons make sense and how values print.
enum class ValueType {
  kNumber,    // plain: counts, ratios, gauges without a unit suffix
  kDuration,  // seconds
  kFraction,  // 0.02 = 2%
  kRate,      // per second
};

// Which stretch of plan time a statement (or one value in it) is judged over.
struct Window {
  enum class Kind {
    kDuring,      // during(P): the whole phase
    kDuringLast,  // during(P, last D): the final D of the phase
    kAfter,       // after(P): the second half of the phase
    kOverall,     // overall: first phase start to last phase end
  };
  Kind kind = Kind::kOverall;
  std::string phase;  // empty for kOverall
  Duration last{0};   // kDuringLast only; > 0
  Span span;          // the whole window text
  Span phase_span;    // the phase name
  Span last_span;     // the duration after `last`
};

// A number as written, with its unit: `800ms`, `2%`, `50/s`, `3`.
struct Literal {
  ValueType type = ValueType::kNumber;
  double value = 0;  // normalised (see the header comment)
  std::string text;  // canonical spelling: "800ms", "2%", "50/s", "3"
  // Written without a unit (`p95 > 800`) and read as milliseconds because it is compared
  // with a client latency; type is then kDuration and text "800ms". The checker notes it.
  bool bare_milliseconds = false;
  bool is_bare_zero() const { return type == ValueType::kNumber && value == 0; }
};

// A metric read: client side (`p95(route=orders)`) or server side (`metric.max(queue_depth)`),
// optionally from another window (`during(warmup).p95`); or a fact of the whole run
// (`history.lost`, `verify.effects("/count")`), which has no window (the checker allows it
// only in `overall:` assertions).
struct MetricRef {
  enum class Side { kClient, kServer, kRunFact };
  Side side = Side::kClient;
  ClientQuery client;            // side == kClient
  ServerQuery server;            // side == kServer
  RunFactQuery fact;             // side == kRunFact
  std::optional<Window> window;  // set: read from this window instead of the statement's
  Span name_span;                // the client metric name, or the server function name
  // Parallel to client.selectors or server.matchers: where each value was written.
  std::vector<Span> value_spans;
};

struct ValueExpr {
  enum class Kind { kLiteral, kMetric, kArith };
  Kind kind = Kind::kLiteral;
  Span span;
  Literal literal;   // kLiteral
  MetricRef metric;  // kMetric
  // kArith: operands[0] ops[0] operands[1] ops[1] ... evaluated left to right; ops are '*' or
  // '/'; ops.size() == operands.size() - 1.
  std::vector<ValueExpr> operands;
  std::vector<char> ops;
};

enum class CompareOp { kGt, kGe, kLt, kLe, kEq, kNe };

// kAlert: the state of a Prometheus alerting rule over the window, read from the ALERTS
// series of the Prometheus the run observes through:
//   `alert(NAME) fires`              firing at some read in the window
//   `alert(NAME) fires within D`     firing at some read at most D after the window's start
//   `alert(NAME) never fires`        firing at no read in the window (no false positives)
//   `alert(NAME) resolved`           not firing at the window's last read
enum class AlertState { kFires, kNeverFires, kResolved };

struct Condition {
  enum class Kind { kCompare, kBackToNormal, kAnd, kOr, kAlert };
  Kind kind = Kind::kCompare;
  Span span;
  CompareOp op = CompareOp::kGt;    // kCompare
  Span op_span;                     // kCompare: the operator; kBackToNormal: `back to normal`
  std::vector<ValueExpr> values;    // kCompare: lhs, rhs; kBackToNormal: the one value
  std::vector<Condition> operands;  // kAnd/kOr
  std::string alert;                // kAlert: the alert's name (the alertname label)
  AlertState alert_state = AlertState::kFires;
  std::optional<Duration> alert_within;  // kAlert with kFires: `within D`
  Span alert_span;                       // kAlert: the name
};

// `p95 improves by >= 30%`: the relative change of a metric between a baseline run and a
// candidate run, in the direction that is better for that metric (lower latency and error
// rates, higher rps).
struct Gate {
  enum class Direction { kImproves, kRegresses };
  ValueExpr value;
  Direction direction = Direction::kImproves;
  CompareOp op = CompareOp::kGe;  // one of > >= < <=
  Literal threshold;              // a percentage
  Span direction_span;
  Span threshold_span;
};

// `after(trigger): p95 < 300ms within 20s`: a recovery statement. The condition must hold
// from some moment at most `limit` after the window's start and keep holding to the window's
// end; the judge measures that moment (judge/evaluator.h has the exact rule). Only assertions
// whose window is after(P) may carry one (the checker reports the rest).
struct Recovery {
  Duration limit{0};  // > 0
  Span span;          // `within 20s`
  Span limit_span;    // `20s`
};

struct Statement {
  StatementKind kind = StatementKind::kAssertion;
  Window window;
  std::optional<Condition> condition;  // kAssertion, kAbortIf
  std::optional<Recovery> recovery;    // set only with a condition: `... within D`
  std::optional<Gate> gate;            // kCompareGate
};

}  // namespace faultline::dsl
