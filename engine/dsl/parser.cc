#include "dsl/parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <tuple>
#include <utility>

#include "common/text.h"
#include "dsl/lexer.h"
#include "dsl/printer.h"
#include "dsl/types.h"
#include "dsl/vocabulary.h"

namespace faultline::dsl {

namespace {

const char* kExample = "e.g. during(trigger): p95(route=orders) > 800ms";
const char* kUnits = "units: us ms s m h (durations), % (percentages), /s /m /h (rates)";

struct Failure {
  DslProblem problem;
};

bool is_prometheus_name(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::optional<CompareOp> compare_op(const Token& t) {
  if (t.kind != TokenKind::kPunct) return std::nullopt;
  if (t.text == ">") return CompareOp::kGt;
  if (t.text == ">=") return CompareOp::kGe;
  if (t.text == "<") return CompareOp::kLt;
  if (t.text == "<=") return CompareOp::kLe;
  if (t.text == "==") return CompareOp::kEq;
  if (t.text == "!=") return CompareOp::kNe;
  return std::nullopt;
}

bool is_window_word(const Token& t) {
  return t.is("during") || t.is("after") || t.is("overall");
}

// Whether every letter run of a unit suffix is a duration unit ("m30s", "ms"): then a failed
// parse means an inexact or too large duration rather than an unknown unit.
bool looks_like_duration_unit(std::string_view unit) {
  size_t i = 0;
  while (i < unit.size()) {
    if (!std::isalpha(static_cast<unsigned char>(unit[i]))) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < unit.size() && std::isalpha(static_cast<unsigned char>(unit[j]))) ++j;
    const std::string_view run = unit.substr(i, j - i);
    if (run != "us" && run != "ms" && run != "s" && run != "m" && run != "h") return false;
    i = j;
  }
  return !unit.empty() && std::isalpha(static_cast<unsigned char>(unit[0]));
}

class Parser {
 public:
  Parser(std::vector<Token> tokens, StatementKind kind) : tokens_(std::move(tokens)), kind_(kind) {
    classify_groups();
  }

  Statement statement() {
    Statement s;
    s.kind = kind_;
    if (peek().kind == TokenKind::kEnd) {
      fail(0, 0, "empty statement", std::string("write <window>: <condition>, ") + kExample);
    }
    s.window = window();
    if (!accept(":")) {
      fail_at(peek(), "expected ':' after " + to_string(s.window),
              "write " + to_string(s.window) + ": <condition>, " + kExample);
    }
    if (kind_ == StatementKind::kCompareGate) {
      s.gate = gate();
      if (peek().is("within")) {
        fail_at(peek(), "'within' does not apply to compare gates",
                "a gate compares one window of two runs; state recovery times under assert:, "
                "e.g. after(trigger): p95 < 300ms within 20s");
      }
    } else {
      s.condition = or_expr();
      if (peek().is("within")) s.recovery = recovery();
    }
    if (peek().kind != TokenKind::kEnd) trailing(peek());
    return s;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& take() {
    const Token& t = tokens_[pos_];
    last_end_ = t.offset + t.text.size();
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool accept(std::string_view word) {
    if (!peek().is(word)) return false;
    take();
    return true;
  }
  Span span_from(size_t start) const { return {start, last_end_ > start ? last_end_ - start : 0}; }
  static Span span_of(const Token& t) { return {t.offset, t.text.size()}; }

  [[noreturn]] void fail(size_t offset, size_t length, std::string message, std::string hint) {
    throw Failure{{offset, length, std::move(message), std::move(hint)}};
  }
  [[noreturn]] void fail_at(const Token& t, std::string message, std::string hint) {
    fail(t.offset, t.text.size(), std::move(message), std::move(hint));
  }
  static std::string describe(const Token& t) {
    return t.kind == TokenKind::kEnd ? "the end" : "'" + std::string(t.text) + "'";
  }

  // Marks each '(' token whose group contains a comparison (outside label braces), so a
  // parenthesis at the start of a condition can be told apart from one around a value
  // without backtracking.
  void classify_groups() {
    group_is_condition_.assign(tokens_.size(), false);
    std::vector<size_t> open;
    int braces = 0;
    for (size_t i = 0; i < tokens_.size(); ++i) {
      const Token& t = tokens_[i];
      if (t.is("{")) {
        ++braces;
      } else if (t.is("}")) {
        braces = std::max(0, braces - 1);
      } else if (t.is("(")) {
        open.push_back(i);
      } else if (t.is(")")) {
        if (open.empty()) continue;
        const size_t child = open.back();
        open.pop_back();
        if (group_is_condition_[child] && !open.empty()) group_is_condition_[open.back()] = true;
      } else if (braces == 0 && !open.empty() &&
                 (compare_op(t) || (t.is("back") && peek_at(i + 1).is("to")) ||
                  (t.is("alert") && peek_at(i + 1).is("(")))) {
        group_is_condition_[open.back()] = true;
      }
    }
  }
  const Token& peek_at(size_t i) const { return tokens_[std::min(i, tokens_.size() - 1)]; }

  void enter(const Token& open) {
    if (++depth_ > kMaxNesting) {
      fail_at(open, "parentheses nested too deeply",
              "at most " + std::to_string(kMaxNesting) + " levels of parentheses");
    }
  }
  void close_paren(const Token& open) {
    if (accept(")")) return;
    if (peek().kind == TokenKind::kEnd) {
      fail_at(open, "unclosed '('", "add the matching ')'");
    }
    if (peek().is("within")) {
      fail_at(peek(), "'within' applies to the whole condition, not inside '('",
              "put it at the end of the statement, e.g. after(trigger): (p95 < 300ms and "
              "error_rate < 1%) within 20s");
    }
    fail_at(peek(), "expected ')', found " + describe(peek()),
            "to close the '(' at column " + std::to_string(open.offset + 1));
  }

  // --- windows -------------------------------------------------------------------------

  Window window() {
    const Token& first = peek();
    Window w;
    if (first.is("overall")) {
      take();
      w.kind = Window::Kind::kOverall;
    } else if (first.is("during") || first.is("after")) {
      const bool during = first.is("during");
      const std::string word(first.text);
      take();
      const Token& open = peek();
      if (!accept("(")) {
        fail_at(open, "expected '(' after '" + word + "'", "write " + word + "(PHASE)");
      }
      phase_name(&w);
      if (during && accept(",")) {
        if (!accept("last")) {
          fail_at(peek(), "expected 'last' after ','", "write during(PHASE, last 10s)");
        }
        const Token& d = peek();
        if (d.kind != TokenKind::kNumber) {
          fail_at(d, "expected a duration after 'last', found " + describe(d),
                  "e.g. during(trigger, last 10s)");
        }
        take();
        const Literal lit = literal(d);
        if (lit.type != ValueType::kDuration) {
          fail_at(d, "'last' needs a duration, not '" + std::string(d.text) + "'",
                  "e.g. during(trigger, last 10s)");
        }
        w.last = *parse_duration(d.text);
        if (w.last <= Duration{0}) {
          fail_at(d, "'last' needs a duration longer than 0", "e.g. during(trigger, last 10s)");
        }
        w.kind = Window::Kind::kDuringLast;
        w.last_span = span_of(d);
      } else {
        w.kind = during ? Window::Kind::kDuring : Window::Kind::kAfter;
      }
      close_paren(open);
    } else {
      window_expected(first);
    }
    w.span = span_from(first.offset);
    return w;
  }

  void phase_name(Window* w) {
    const Token& t = peek();
    if (t.kind == TokenKind::kIdent || t.kind == TokenKind::kNumber) {
      w->phase = std::string(t.text);
    } else if (t.kind == TokenKind::kString && !t.value.empty()) {
      w->phase = t.value;
    } else {
      fail_at(t, "expected a phase name, found " + describe(t), "e.g. during(trigger)");
    }
    take();
    w->phase_span = span_of(t);
  }

  [[noreturn]] void window_expected(const Token& t) {
    const std::string hint =
        "statements start with a window: during(PHASE), after(PHASE), "
        "during(PHASE, last DURATION) or overall";
    if (t.kind == TokenKind::kIdent) {
      const std::string word(t.text);
      if (client_metric_type(word) || word == "metric") {
        fail_at(t, "expected a window before '" + word + "'",
                "start with the window, " + std::string(kExample));
      }
      const std::string guess = did_you_mean(word, {"during", "after", "overall"});
      if (!guess.empty()) fail_at(t, "unknown window '" + word + "'", guess + hint);
    }
    fail_at(t, "expected a window, found " + describe(t), hint);
  }

  // --- conditions ----------------------------------------------------------------------

  Condition or_expr() { return chain(Condition::Kind::kOr, "or", &Parser::and_expr); }
  Condition and_expr() { return chain(Condition::Kind::kAnd, "and", &Parser::primary_condition); }

  // operand (word operand)*, flattened: an operand of the same kind (a parenthesised group)
  // gives its operands, so `a and (b and c)` is one three-way `and`.
  Condition chain(Condition::Kind kind, std::string_view word, Condition (Parser::*operand)()) {
    const size_t start = peek().offset;
    std::vector<Condition> operands;
    do {
      Condition c = (this->*operand)();
      if (c.kind == kind) {
        for (auto& inner : c.operands) operands.push_back(std::move(inner));
      } else {
        operands.push_back(std::move(c));
      }
    } while (accept(word));
    if (operands.size() == 1) return std::move(operands.front());
    Condition c;
    c.kind = kind;
    c.operands = std::move(operands);
    c.span = span_from(start);
    return c;
  }

  Condition primary_condition() {
    if (peek().is("(") && group_is_condition_[pos_]) {
      const Token& open = take();
      enter(open);
      Condition c = or_expr();
      close_paren(open);
      --depth_;
      return c;
    }
    return comparison();
  }

  // `alert(NAME) fires [within D]`, `alert(NAME) never fires`, `alert(NAME) resolved`.
  Condition alert_condition() {
    const size_t start = peek().offset;
    const char* example = "e.g. during(trigger): alert(OrdersLatencyHigh) fires within 60s";
    take();  // "alert"
    const Token& open = take();
    Condition c;
    c.kind = Condition::Kind::kAlert;
    const Token& name = peek();
    if (name.kind == TokenKind::kIdent) {
      c.alert = std::string(name.text);
    } else if (name.kind == TokenKind::kString && !name.value.empty()) {
      c.alert = name.value;
    } else {
      fail_at(name, "expected the name of an alert, found " + describe(name), example);
    }
    take();
    c.alert_span = span_of(name);
    close_paren(open);
    const Token& state = peek();
    if (accept("fires")) {
      c.alert_state = AlertState::kFires;
      if (peek().is("within")) c.alert_within = recovery().limit;
    } else if (accept("never")) {
      if (!accept("fires"))
        fail_at(peek(), "expected 'never fires'", "e.g. during(warmup): alert(X) never fires");
      c.alert_state = AlertState::kNeverFires;
    } else if (accept("resolved")) {
      c.alert_state = AlertState::kResolved;
    } else {
      fail_at(state, "expected 'fires', 'never fires' or 'resolved' after alert(" + c.alert + ")",
              example);
    }
    c.op_span = span_from(state.offset);
    c.span = span_from(start);
    return c;
  }

  Condition comparison() {
    if (peek().is("alert") && peek_at(pos_ + 1).is("(")) return alert_condition();
    const size_t start = peek().offset;
    Condition c;
    c.values.push_back(value());
    const Token& t = peek();
    if (const auto op = compare_op(t)) {
      take();
      c.kind = Condition::Kind::kCompare;
      c.op = *op;
      c.op_span = span_of(t);
      c.values.push_back(value());
      read_bare_milliseconds(c.values[0], c.values[1]);
      read_bare_milliseconds(c.values[1], c.values[0]);
    } else if (t.is("back")) {
      take();
      if (!accept("to") || !accept("normal")) {
        fail_at(peek(), "expected 'back to normal'", "e.g. after(cooldown): p95 back to normal");
      }
      c.kind = Condition::Kind::kBackToNormal;
      c.op_span = span_from(t.offset);
    } else {
      operator_expected(t, c.values.front());
    }
    c.span = span_from(start);
    return c;
  }

  // `p95 > 800`: the project's own first example. A bare number compared with a client
  // latency (a duration that reads no server metric, whose unit the metric name would say) is
  // milliseconds; numbers that are not whole microseconds as ms are left for the checker.
  static void read_bare_milliseconds(ValueExpr& bare, const ValueExpr& other) {
    if (bare.kind != ValueExpr::Kind::kLiteral || bare.literal.type != ValueType::kNumber ||
        bare.literal.value == 0 || other.kind == ValueExpr::Kind::kLiteral ||
        !is_client_latency(other)) {
      return;
    }
    const auto d = parse_duration(bare.literal.text + "ms");
    if (!d || d->count() <= 0) return;
    bare.literal.type = ValueType::kDuration;
    bare.literal.value = static_cast<double>(d->count()) / 1e6;
    bare.literal.text = format_duration(*d);
    bare.literal.bare_milliseconds = true;
  }

  static bool is_client_latency(const ValueExpr& v) {
    const auto reads_server = [](const ValueExpr& e, const auto& self) -> bool {
      if (e.kind == ValueExpr::Kind::kMetric) return e.metric.side != MetricRef::Side::kClient;
      return std::any_of(e.operands.begin(), e.operands.end(),
                         [&](const ValueExpr& o) { return self(o, self); });
    };
    return value_type(v) == ValueType::kDuration && !reads_server(v, reads_server);
  }

  [[noreturn]] void operator_expected(const Token& t, const ValueExpr& lhs) {
    if (t.is("=")) fail_at(t, "'=' is not a comparison", "write == to compare for equality");
    if (t.is("improves") || t.is("regresses")) {
      fail_at(t, "'" + std::string(t.text) + " by' belongs in compare gates",
              "assertions compare values, e.g. during(trigger): p95 > 800ms; put gates under "
              "compare:");
    }
    fail_at(t, "expected a comparison after '" + to_string(lhs) + "', found " + describe(t),
            "add > >= < <= == or != and a value, or 'back to normal'");
  }

  [[noreturn]] void trailing(const Token& t) {
    if (t.is(")")) fail_at(t, "unexpected ')'", "it has no matching '('");
    if (compare_op(t)) {
      fail_at(t, "comparisons cannot be chained", "join two comparisons with 'and'");
    }
    if (t.is("improves") || t.is("regresses")) operator_expected(t, ValueExpr{});
    if (t.is("within")) {
      fail_at(t, "'within' given twice", "a statement has one recovery limit: keep one");
    }
    fail_at(t, "unexpected " + describe(t), "join conditions with 'and' or 'or'");
  }

  // `within D` after the condition: D a duration longer than 0.
  Recovery recovery() {
    const Token& word = take();  // "within"
    const char* example = "e.g. after(trigger): p95 < 300ms within 20s";
    const Token& d = peek();
    if (d.kind != TokenKind::kNumber) {
      fail_at(d, "expected a duration after 'within', found " + describe(d), example);
    }
    take();
    const Literal lit = literal(d);
    if (lit.type != ValueType::kDuration) {
      fail_at(d, "'within' needs a duration, not '" + std::string(d.text) + "'",
              lit.type == ValueType::kNumber
                  ? "write " + lit.text + "s or " + lit.text + "ms: the time allowed to recover"
                  : std::string(example));
    }
    Recovery r;
    r.limit = *parse_duration(d.text);
    if (r.limit <= Duration{0}) {
      fail_at(d, "'within' needs a duration longer than 0", example);
    }
    r.limit_span = span_of(d);
    r.span = span_from(word.offset);
    return r;
  }

  // --- compare gates -------------------------------------------------------------------

  Gate gate() {
    Gate g;
    g.value = value();
    const Token& t = peek();
    if (t.is("improves")) {
      g.direction = Gate::Direction::kImproves;
    } else if (t.is("regresses")) {
      g.direction = Gate::Direction::kRegresses;
    } else {
      fail_at(t, "expected 'improves by' or 'regresses by', found " + describe(t),
              "a compare gate judges the change from the baseline run to the candidate, e.g. "
              "during(trigger): p95 improves by >= 30%");
    }
    take();
    g.direction_span = span_of(t);
    if (!accept("by")) {
      fail_at(peek(), "expected 'by' after '" + std::string(t.text) + "'",
              "e.g. " + std::string(t.text) + " by >= 30%");
    }
    const Token& op_token = peek();
    const auto op = compare_op(op_token);
    if (!op || *op == CompareOp::kEq || *op == CompareOp::kNe) {
      fail_at(op_token, "expected >=, >, <= or < after 'by', found " + describe(op_token),
              "e.g. improves by >= 30%, regresses by <= 10%");
    }
    take();
    g.op = *op;
    const Token& n = peek();
    if (n.kind != TokenKind::kNumber) {
      fail_at(n, "expected a percentage, found " + describe(n), "e.g. improves by >= 30%");
    }
    take();
    g.threshold = literal(n);
    g.threshold_span = span_of(n);
    if (g.threshold.type != ValueType::kFraction) {
      fail_at(n, "the change must be a percentage, not '" + std::string(n.text) + "'",
              "write e.g. " + format_plain_number(g.threshold.value) + "%");
    }
    return g;
  }

  // --- values --------------------------------------------------------------------------

  ValueExpr value() {
    const size_t start = peek().offset;
    ValueExpr first = term();
    if (!peek().is("*") && !peek().is("/")) return first;
    ValueExpr arith;
    if (first.kind == ValueExpr::Kind::kArith) {
      arith = std::move(first);  // (a * b) / c == a * b / c: keep chains flat
    } else {
      arith.kind = ValueExpr::Kind::kArith;
      arith.operands.push_back(std::move(first));
    }
    while (peek().is("*") || peek().is("/")) {
      arith.ops.push_back(take().text[0]);
      arith.operands.push_back(term());
    }
    arith.span = span_from(start);
    return arith;
  }

  ValueExpr term() {
    const Token& t = peek();
    const size_t start = t.offset;
    ValueExpr v;
    if (t.kind == TokenKind::kNumber) {
      take();
      v.kind = ValueExpr::Kind::kLiteral;
      v.literal = literal(t);
      v.span = span_of(t);
      return v;
    }
    if (t.is("(")) {
      if (group_is_condition_[pos_]) {
        fail_at(t, "a comparison cannot be used as a value",
                "parenthesise values, e.g. p95 > (2 * during(warmup).p95)");
      }
      take();
      enter(t);
      v = value();
      close_paren(t);
      --depth_;
      return v;
    }
    if (is_window_word(t)) {
      Window w = window();
      if (!accept(".")) {
        fail_at(peek(), "expected '.' and a metric after " + to_string(w),
                "read a metric of another window like this: " + to_string(w) + ".p95");
      }
      v = metric();
      v.metric.window = std::move(w);
      v.span = span_from(start);
      return v;
    }
    if (t.kind == TokenKind::kIdent) return metric();
    fail_at(t, "expected a value, found " + describe(t),
            "a number such as 800ms or 2%, or a metric such as p95(route=orders)");
  }

  Literal literal(const Token& t) {
    const std::string_view digits = t.text.substr(0, t.digits);
    const std::string_view unit = t.text.substr(t.digits);
    double mantissa = 0;
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), mantissa);
    if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) {
      fail_at(t, "number '" + std::string(digits) + "' is out of range", "");
    }
    Literal lit;
    if (unit.empty()) {
      lit.type = ValueType::kNumber;
      lit.value = mantissa;
      lit.text = format_plain_number(mantissa);
    } else if (unit == "%") {
      lit.type = ValueType::kFraction;
      lit.value = mantissa / 100;
      lit.text = format_plain_number(mantissa) + "%";
    } else if (unit[0] == '/') {
      const auto rate = parse_rate(t.text);
      if (!rate) fail_at(t, "rate '" + std::string(t.text) + "' is out of range", "");
      lit.type = ValueType::kRate;
      lit.value = *rate;
      lit.text = format_plain_number(mantissa) + std::string(unit);
    } else if (const auto d = parse_duration(t.text)) {
      lit.type = ValueType::kDuration;
      lit.value = static_cast<double>(d->count()) / 1e6;
      lit.text = format_duration(*d);
    } else if (looks_like_duration_unit(unit)) {
      fail_at(t, "invalid duration '" + std::string(t.text) + "'",
              "durations are whole microseconds, not too large, e.g. 250us, 800ms, 1.5s, 1m30s");
    } else {
      const auto best = closest_match(unit, {"us", "ms", "s", "m", "h"});
      fail(t.offset + t.digits, unit.size(), "unknown unit '" + std::string(unit) + "'",
           (best ? "did you mean " + std::string(digits) + *best + "? " : std::string()) + kUnits);
    }
    return lit;
  }

  // --- metrics -------------------------------------------------------------------------

  ValueExpr metric() {
    const Token& name = peek();
    if (name.kind != TokenKind::kIdent) {
      fail_at(name, "expected a metric, found " + describe(name), "e.g. during(warmup).p95");
    }
    if (name.is("metric")) return server_metric();
    if (name.is("history") || name.is("verify")) return run_fact();
    const std::string word(name.text);
    if (!client_metric_type(word)) unknown_metric(name);
    take();
    ValueExpr v;
    v.kind = ValueExpr::Kind::kMetric;
    MetricRef& m = v.metric;
    m.side = MetricRef::Side::kClient;
    m.client.metric = word;
    m.name_span = span_of(name);
    if (peek().is("(")) {
      const Token& open = take();
      if (!peek().is(")")) selectors(&m);
      close_paren(open);
    }
    v.span = span_from(name.offset);
    return v;
  }

  [[noreturn]] void unknown_metric(const Token& name) {
    const std::string word(name.text);
    const std::string list = "client metrics: " + join(client_metric_names(), " ") +
                             "; server metrics: metric.<fn>(<name>)";
    if (is_keyword(word)) {
      fail_at(name, "expected a value, found '" + word + "'",
              "a number such as 800ms or 2%, or a metric such as p95(route=orders)");
    }
    if (word.size() > 1 && word[0] == 'p' && std::all_of(word.begin() + 1, word.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      fail_at(
          name, "'" + word + "' is not a quantile",
          "write p and the level's digits after \"0.\": p50 p90 p975 p999, p05 for 5%; " + list);
    }
    if (server_function_kind(word)) {
      fail_at(name, "'" + word + "' is not a client metric",
              "for a server metric write metric." + word + "(<name>); " + list);
    }
    fail_at(name, "unknown metric '" + word + "'",
            did_you_mean(word, client_metric_names()) + list);
  }

  void selectors(MetricRef* m) {
    std::vector<std::pair<std::pair<std::string, std::string>, Span>> found;
    while (true) {
      const Token& key = peek();
      if (key.kind != TokenKind::kIdent) {
        fail_at(key, "expected a selector, found " + describe(key),
                "selectors: route=NAME, method=GET, status=5xx|503, error=timeout");
      }
      const std::string k(key.text);
      const auto& keys = selector_keys();
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) {
        fail_at(key, "unknown selector '" + k + "'",
                did_you_mean(k, keys) + "selectors: route= method= status= error=");
      }
      for (const auto& f : found) {
        if (f.first.first == k) fail_at(key, "selector '" + k + "' given twice", "keep one");
      }
      take();
      const Token& eq = peek();
      if (!accept("=")) {
        fail_at(eq, "expected '=' after '" + k + "', found " + describe(eq),
                eq.is("!=") || eq.is("=~") || eq.is("!~")
                    ? "client selectors match exactly (=); server metrics take != =~ !~"
                    : "e.g. " + k + "=" +
                          (k == "route"    ? "orders"
                           : k == "status" ? "5xx"
                                           : ""));
      }
      const Token& val = peek();
      std::string value;
      if (val.kind == TokenKind::kIdent || val.kind == TokenKind::kNumber) {
        value = std::string(val.text);
      } else if (val.kind == TokenKind::kString) {
        value = val.value;
      } else {
        fail_at(val, "expected a value for '" + k + "', found " + describe(val), "");
      }
      check_selector_value(k, value, val);
      take();
      found.push_back({{k, value}, span_of(val)});
      if (!accept(",")) break;
    }
    // Canonical order: the order of selector_keys().
    const auto rank = [](const std::string& key) {
      const auto& keys = selector_keys();
      return std::find(keys.begin(), keys.end(), key) - keys.begin();
    };
    std::stable_sort(found.begin(), found.end(), [&](const auto& a, const auto& b) {
      return rank(a.first.first) < rank(b.first.first);
    });
    for (auto& f : found) {
      m->client.selectors.push_back(std::move(f.first));
      m->value_spans.push_back(f.second);
    }
  }

  void check_selector_value(const std::string& key, const std::string& value, const Token& at) {
    if (key == "route") {
      if (value.empty()) fail_at(at, "empty route name", "e.g. route=orders");
    } else if (key == "status") {
      if (!is_status_selector(value)) {
        fail_at(at, "unknown status '" + value + "'",
                "write status=2xx, 3xx, 4xx, 5xx or an exact code such as 503");
      }
    } else if (key == "method") {
      const auto& methods = http_methods();
      if (std::find(methods.begin(), methods.end(), value) == methods.end()) {
        std::string upper = value;
        for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        fail_at(at, "unknown method '" + value + "'",
                std::find(methods.begin(), methods.end(), upper) != methods.end()
                    ? "methods are upper case: method=" + upper
                    : "methods: " + join(methods, " "));
      }
    } else if (key == "error") {
      const auto& classes = error_classes();
      if (std::find(classes.begin(), classes.end(), value) == classes.end()) {
        fail_at(at, "unknown error class '" + value + "'",
                did_you_mean(value, classes) + "error classes: " + join(classes, " "));
      }
    }
  }

  // `history.lost` or `verify.<hook>("/json/pointer")`.
  ValueExpr run_fact() {
    const Token& word = take();
    const bool history = word.is("history");
    ValueExpr v;
    v.kind = ValueExpr::Kind::kMetric;
    MetricRef& m = v.metric;
    m.side = MetricRef::Side::kRunFact;
    m.fact.source = std::string(word.text);
    const char* example = history
                              ? "e.g. overall: history.lost == 0"
                              : "e.g. overall: verify.effects(\"/count\") == count(route=orders, "
                                "status=2xx)";
    if (!accept(".")) {
      fail_at(peek(), "expected '.' after '" + m.fact.source + "'",
              history ? "write history.<figure>: " + join(history_names(), " ")
                      : std::string("write verify.<hook>(\"/json/pointer\"), ") + example);
    }
    const Token& name = peek();
    if (name.kind != TokenKind::kIdent) {
      fail_at(name,
              std::string("expected ") + (history ? "a history figure" : "a verify hook name") +
                  ", found " + describe(name),
              history ? "figures: " + join(history_names(), " ") : std::string(example));
    }
    const std::string n(name.text);
    if (history) {
      const auto& names = history_names();
      if (std::find(names.begin(), names.end(), n) == names.end())
        fail_at(name, "unknown history figure '" + n + "'",
                did_you_mean(n, names) + "figures: " + join(names, " "));
    }
    take();
    m.fact.name = n;
    m.name_span = span_of(name);
    if (!history) {
      const Token& open = peek();
      if (!accept("(")) {
        fail_at(open, "expected '(' after verify." + n,
                "name what to read in its JSON output: verify." + n + "(\"/count\")");
      }
      const Token& ptr = peek();
      if (ptr.kind != TokenKind::kString || (!ptr.value.empty() && ptr.value[0] != '/')) {
        fail_at(ptr, "expected a quoted JSON pointer, found " + describe(ptr),
                "e.g. verify." + n + "(\"/count\"), or \"\" for an output that is a number");
      }
      take();
      m.fact.pointer = ptr.value;
      m.value_spans.push_back(span_of(ptr));
      close_paren(open);
    }
    v.span = span_from(word.offset);
    return v;
  }

  ValueExpr server_metric() {
    const Token& word = take();  // "metric"
    if (!accept(".")) {
      fail_at(peek(), "expected '.' after 'metric'",
              "write metric.<fn>(<name>), e.g. metric.p95(http_request_duration_seconds)");
    }
    const Token& fn = peek();
    const std::string function(fn.text);
    if (fn.kind != TokenKind::kIdent || !server_function_kind(function)) {
      fail_at(fn, "unknown server function " + describe(fn),
              did_you_mean(function, server_function_names()) +
                  "functions: " + join(server_function_names(), " "));
    }
    take();
    ValueExpr v;
    v.kind = ValueExpr::Kind::kMetric;
    MetricRef& m = v.metric;
    m.side = MetricRef::Side::kServer;
    m.server.function = function;
    m.name_span = span_of(fn);
    const Token& open = peek();
    if (!accept("(")) {
      fail_at(open, "expected '(' after metric." + function,
              "e.g. metric." + function + "(http_request_duration_seconds{route=\"/orders\"})");
    }
    const Token& name = peek();
    if (name.kind != TokenKind::kIdent || !is_prometheus_name(name.text)) {
      fail_at(name, "expected a Prometheus metric name, found " + describe(name),
              name.kind == TokenKind::kString ? "the metric name is not quoted"
                                              : "names are [a-zA-Z_][a-zA-Z0-9_]*");
    }
    take();
    m.server.metric_name = std::string(name.text);
    if (server_function_kind(function) == ServerFunctionKind::kQuantile &&
        m.server.metric_name.ends_with("_bucket")) {
      fail_at(name, "write the histogram's name without '_bucket'",
              "e.g. metric." + function + "(" +
                  m.server.metric_name.substr(0, m.server.metric_name.size() - 7) + ")");
    }
    if (peek().is("{")) matchers(&m);
    close_paren(open);
    v.span = span_from(word.offset);
    return v;
  }

  void matchers(MetricRef* m) {
    const Token& open = take();  // "{"
    std::vector<std::pair<LabelMatcher, Span>> found;
    while (!peek().is("}")) {
      const Token& label = peek();
      if (label.kind != TokenKind::kIdent || !is_prometheus_name(label.text)) {
        if (label.kind == TokenKind::kEnd) fail_at(open, "unclosed '{'", "add the matching '}'");
        fail_at(label, "expected a label name, found " + describe(label),
                "e.g. {route=\"/orders\", job=\"api\"}");
      }
      take();
      const Token& op = peek();
      if (!(op.is("=") || op.is("!=") || op.is("=~") || op.is("!~"))) {
        fail_at(op,
                "expected =, !=, =~ or !~ after '" + std::string(label.text) + "', found " +
                    describe(op),
                "e.g. " + std::string(label.text) + "=\"value\"");
      }
      take();
      const Token& val = peek();
      if (val.kind != TokenKind::kString) {
        fail_at(val, "label values are quoted",
                "write " + std::string(label.text) + std::string(op.text) + "\"" +
                    (val.kind == TokenKind::kEnd ? std::string("value") : std::string(val.text)) +
                    "\"");
      }
      take();
      found.push_back({{std::string(label.text), std::string(op.text), val.value}, span_of(val)});
      if (!accept(",")) break;
    }
    if (!accept("}")) {
      if (peek().kind == TokenKind::kEnd) fail_at(open, "unclosed '{'", "add the matching '}'");
      fail_at(peek(), "expected ',' or '}', found " + describe(peek()),
              "separate matchers with ','");
    }
    std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first.name, a.first.op, a.first.value) <
             std::tie(b.first.name, b.first.op, b.first.value);
    });
    for (auto& f : found) {
      m->server.matchers.push_back(std::move(f.first));
      m->value_spans.push_back(f.second);
    }
  }

  std::vector<Token> tokens_;
  StatementKind kind_;
  std::vector<bool> group_is_condition_;  // per token index: '(' that opens a condition
  size_t pos_ = 0;
  size_t last_end_ = 0;  // end offset of the last token taken
  int depth_ = 0;
};

}  // namespace

ParseResult parse_statement(std::string_view text, StatementKind kind) {
  ParseResult result;
  std::vector<Token> tokens;
  if (!tokenize(text, &tokens, &result.error)) return result;
  try {
    result.statement = Parser(std::move(tokens), kind).statement();
  } catch (const Failure& f) {
    result.error = f.problem;
  }
  return result;
}

}  // namespace faultline::dsl
