#include "dsl/check.h"

#include <algorithm>
#include <regex>

#include "common/text.h"
#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl/types.h"

namespace faultline::dsl {

namespace {

// Regexes are compiled here only to validate them. Bounds keep std::regex's recursive
// compiler away from deep recursion on hostile input.
constexpr size_t kMaxRegexLength = 1024;
constexpr int kMaxRegexNesting = 32;
constexpr size_t kMaxRepeat = 1000;

std::optional<std::string> regex_problem(const std::string& pattern) {
  if (pattern.size() > kMaxRegexLength) {
    return "regex longer than " + std::to_string(kMaxRegexLength) + " characters";
  }
  int depth = 0;
  bool in_class = false;  // inside [...], where ( { are literal
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    // libstdc++ overflows (undefined behaviour) on huge numbers in a repetition count {n,m}
    // or a backreference \n, and large counts explode its automaton: bound them first.
    const bool numbered = c == '{' || (c == '\\' && i + 1 < pattern.size() &&
                                       pattern[i + 1] >= '0' && pattern[i + 1] <= '9');
    if (numbered && (c == '\\' || !in_class)) {
      size_t count = 0;
      for (size_t j = i + 1; j < pattern.size() && pattern[j] != '}'; ++j) {
        if (pattern[j] < '0' || pattern[j] > '9') {
          if (c == '\\') break;
          count = 0;
        } else if ((count = count * 10 + static_cast<size_t>(pattern[j] - '0')) > kMaxRepeat) {
          return std::string("regex ") + (c == '{' ? "repetition count" : "backreference") +
                 " above " + std::to_string(kMaxRepeat);
        }
      }
    }
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      in_class = c != ']';
    } else if (c == '[') {
      in_class = true;
    } else if (c == '(' && ++depth > kMaxRegexNesting) {
      return "regex nested more than " + std::to_string(kMaxRegexNesting) + " levels deep";
    } else if (c == ')') {
      --depth;
    }
  }
  try {
    std::regex re(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return std::string("invalid regex: ") + e.what();
  }
  return std::nullopt;
}

class Checker {
 public:
  explicit Checker(const DslContext& ctx) : ctx_(ctx) {}

  std::vector<DslProblem> run(const Statement& s) {
    window(s.window);
    if (s.condition) condition(*s.condition);
    if (s.gate) gate(*s.gate);
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const DslProblem& a, const DslProblem& b) { return a.offset < b.offset; });
    return std::move(problems_);
  }

 private:
  void add(Span at, std::string message, std::string hint) {
    problems_.push_back({at.offset, at.length, std::move(message), std::move(hint)});
  }

  void known_name(const std::string& name, const std::vector<std::string>& known, const char* what,
                  Span at) {
    if (known.empty() || std::find(known.begin(), known.end(), name) != known.end()) return;
    add(at, std::string("unknown ") + what + " '" + name + "'",
        did_you_mean(name, known) + what + "s: " + join(known, ", "));
  }

  void window(const Window& w) {
    if (w.kind == Window::Kind::kOverall) return;
    known_name(w.phase, ctx_.phases, "phase", w.phase_span);
    if (w.kind != Window::Kind::kDuringLast) return;
    const auto it = ctx_.phase_durations.find(w.phase);
    if (it != ctx_.phase_durations.end() && w.last > it->second) {
      add(w.last_span,
          "last " + format_duration(w.last) + " is longer than phase '" + w.phase + "' (" +
              format_duration(it->second) + ")",
          "use at most " + format_duration(it->second) + ", or during(" + format_name(w.phase) +
              ") for the whole phase");
    }
  }

  void condition(const Condition& c) {
    switch (c.kind) {
      case Condition::Kind::kAnd:
      case Condition::Kind::kOr:
        for (const auto& operand : c.operands) condition(operand);
        return;
      case Condition::Kind::kCompare:
        values(c.values);
        if (!reads_metric(c.values[0], false) && !reads_metric(c.values[1], false)) {
          add(c.span, "this comparison reads no metric",
              "compare a metric with a value, e.g. p95 > 800ms");
        } else if (auto p = comparison_problem(c.values[0], c.values[1])) {
          problems_.push_back(std::move(*p));
        }
        return;
      case Condition::Kind::kBackToNormal:
        values(c.values);
        if (!reads_metric(c.values[0], true)) {
          add(c.values[0].span, "'back to normal' needs a metric of the statement's window",
              "it compares that metric with its baseline value, e.g. after(cooldown): p95 back "
              "to normal");
        }
        return;
    }
  }

  void gate(const Gate& g) {
    values({g.value});
    if (g.value.kind != ValueExpr::Kind::kMetric) {
      add(g.value.span, "a compare gate judges one metric",
          "e.g. during(trigger): p95(route=orders) improves by >= 30%");
    } else if (g.value.metric.window) {
      add(g.value.metric.window->span, "a compare gate reads its metric in the gate's window",
          "drop '" + to_string(*g.value.metric.window) + ".'");
    }
  }

  // Whether v reads a metric; with `own_window_only`, one without a window of its own.
  static bool reads_metric(const ValueExpr& v, bool own_window_only) {
    if (v.kind == ValueExpr::Kind::kMetric) return !own_window_only || !v.metric.window;
    return std::any_of(v.operands.begin(), v.operands.end(), [&](const ValueExpr& operand) {
      return reads_metric(operand, own_window_only);
    });
  }

  void values(const std::vector<ValueExpr>& list) {
    for (const auto& v : list) {
      value_type(v, &problems_);
      names_in(v);
    }
  }

  void names_in(const ValueExpr& v) {
    for (const auto& operand : v.operands) names_in(operand);
    if (v.kind != ValueExpr::Kind::kMetric) return;
    const MetricRef& m = v.metric;
    if (m.window) window(*m.window);
    if (m.side == MetricRef::Side::kClient) {
      for (size_t i = 0; i < m.client.selectors.size(); ++i) {
        const auto& [key, value] = m.client.selectors[i];
        if (key == "route") known_name(value, ctx_.routes, "route", m.value_spans[i]);
      }
      return;
    }
    for (size_t i = 0; i < m.server.matchers.size(); ++i) {
      const LabelMatcher& matcher = m.server.matchers[i];
      const bool regex = matcher.op == "=~" || matcher.op == "!~";
      if (regex) {
        if (auto p = regex_problem(matcher.value)) {
          add(m.value_spans[i], *p,
              "regexes use ECMAScript syntax and must match the whole label value");
        }
      } else if (matcher.name == "job") {
        known_name(matcher.value, ctx_.services, "service", m.value_spans[i]);
      }
    }
  }

  const DslContext& ctx_;
  std::vector<DslProblem> problems_;
};

}  // namespace

std::vector<DslProblem> check_statement(std::string_view text, const DslContext& ctx,
                                        StatementKind kind) {
  const ParseResult parsed = parse_statement(text, kind);
  if (!parsed.ok()) return {parsed.error};
  return check_parsed(*parsed.statement, ctx);
}

std::vector<DslProblem> check_parsed(const Statement& statement, const DslContext& ctx) {
  return Checker(ctx).run(statement);
}

}  // namespace faultline::dsl
