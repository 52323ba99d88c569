#include "dsl/check.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include <re2/re2.h>

#include "common/text.h"
#include "dsl/parser.h"
#include "dsl/printer.h"
#include "dsl/types.h"

namespace faultline::dsl {

namespace {

// A regex matcher's problem, located within the pattern (decoded text, not the source).
struct RegexProblem {
  size_t offset = 0;  // into the pattern
  size_t length = 0;  // 0: the whole value, quotes included
  std::string message;
};

// The options observe/label_matcher.cc matches with (dot_nl does not change what is valid).
RE2::Options matcher_options() {
  RE2::Options options;
  options.set_dot_nl(true);
  options.set_log_errors(false);
  return options;
}

// RE2 names the whole pattern for an unbalanced parenthesis; this finds it: the first ')'
// that closes nothing, else the innermost '(' left open. Escapes, \Q...\E and classes (where
// parentheses are literal) are skipped.
std::optional<size_t> unbalanced_paren(const std::string& p) {
  std::vector<size_t> open;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\') {
      if (i + 1 < p.size() && p[i + 1] == 'Q') {
        const size_t quoted_end = p.find("\\E", i + 2);
        if (quoted_end == std::string::npos) break;
        i = quoted_end + 1;
      } else {
        ++i;
      }
    } else if (p[i] == '[') {
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;  // "[]a]": a leading ']' is literal
      for (; j < p.size() && p[j] != ']'; ++j) {
        if (p[j] == '\\') {
          ++j;
        } else if (p.compare(j, 2, "[:") == 0) {
          if (const size_t e = p.find(":]", j + 2); e != std::string::npos) j = e + 1;
        }
      }
      i = j;
    } else if (p[i] == '(') {
      open.push_back(i);
    } else if (p[i] == ')') {
      if (open.empty()) return i;
      open.pop_back();
    }
  }
  if (open.empty()) return std::nullopt;
  return open.back();
}

// Where RE2's error fragment ("{2,1001}", "\1", "**") sits in the pattern. RE2 parses left to
// right and stops at the first error, so it is the first occurrence at which the pattern cut
// just after it fails the same way: in `\\1(b)\1` the cut `\\1` is valid, so the error is the
// second "\1". Tries are bounded; past them the first occurrence is taken.
std::optional<size_t> fragment_offset(const std::string& pattern, const RE2& failed) {
  const std::string& fragment = failed.error_arg();
  if (fragment.empty()) return std::nullopt;
  constexpr int kMaxTries = 64;
  std::optional<size_t> first;
  int tries = 0;
  for (size_t at = pattern.find(fragment); at != std::string::npos && tries < kMaxTries;
       at = pattern.find(fragment, at + 1), ++tries) {
    if (!first) first = at;
    const RE2 cut(re2::StringPiece(pattern.data(), at + fragment.size()), matcher_options());
    if (cut.error_code() == failed.error_code() && cut.error_arg() == fragment) return at;
  }
  return first;
}

// Regexes are compiled here only to validate them, as the matcher will compile them. RE2
// compiles in linear time and bounded memory (max_mem), so no length or nesting limits of our
// own are needed: what RE2 refuses ("invalid repetition size", "pattern too large") is
// reported in its words, at the place it names.
std::optional<RegexProblem> regex_problem(const std::string& pattern) {
  const RE2 re(pattern, matcher_options());
  if (re.ok()) return std::nullopt;
  // error() is "<what>: <fragment>" ("invalid repetition size: {2,1001}"), or "<what>" alone
  // ("pattern too large - compile failed"). A fragment can be the whole pattern or run to its
  // end ("missing ]: [a..."), so it is quoted short, or not at all when the span shows it.
  const std::string& fragment = re.error_arg();
  std::string what = re.error();
  const std::string tail = ": " + fragment;
  if (!fragment.empty() && what.size() > tail.size() &&
      what.compare(what.size() - tail.size(), tail.size(), tail) == 0) {
    what.resize(what.size() - tail.size());
  }
  constexpr size_t kMaxQuoted = 40;
  const std::string quoted =
      fragment.size() <= kMaxQuoted ? fragment : fragment.substr(0, kMaxQuoted - 3) + "...";
  const std::string message = "invalid regex: " + what;
  const RE2::ErrorCode code = re.error_code();
  if (code == RE2::ErrorMissingParen || code == RE2::ErrorUnexpectedParen) {
    if (const auto at = unbalanced_paren(pattern)) return RegexProblem{*at, 1, message};
    return RegexProblem{0, 0, message};
  }
  if (code == RE2::ErrorTrailingBackslash && !pattern.empty()) {
    return RegexProblem{pattern.size() - 1, 1, message};
  }
  if (fragment.empty()) return RegexProblem{0, 0, message};
  if (const auto at = fragment_offset(pattern, re)) {
    return RegexProblem{*at, fragment.size(), message + ": " + quoted};
  }
  return RegexProblem{0, 0, message + ": " + quoted};
}

// The source span of pattern[offset, offset + length) inside `value_span`, the quoted string
// it was decoded from (dsl/lexer.cc: \\, \" and \n take two bytes). When the source cannot
// be mapped (a raw newline inside the quotes), the whole quoted value.
Span span_in_quoted(const std::string& value, Span value_span, size_t offset, size_t length) {
  const auto source_bytes = [&](size_t from, size_t to) {
    size_t n = 0;
    for (size_t i = from; i < to; ++i) {
      const char c = value[i];
      n += c == '\\' || c == '"' || c == '\n' ? 2 : 1;
    }
    return n;
  };
  if (length == 0 || value_span.length != source_bytes(0, value.size()) + 2) return value_span;
  return {value_span.offset + 1 + source_bytes(0, offset), source_bytes(offset, offset + length)};
}

bool has_alert(const Condition& c) {
  return c.kind == Condition::Kind::kAlert ||
         std::any_of(c.operands.begin(), c.operands.end(), has_alert);
}

class Checker {
 public:
  explicit Checker(const DslContext& ctx) : ctx_(ctx) {}

  std::vector<DslProblem> run(const Statement& s) {
    statement_ = &s;
    window(s.window);
    if (s.condition) condition(*s.condition);
    // With an alert inside, the alert's own problem says it; the recovery rules would only add
    // noise about a condition they cannot follow.
    if (s.condition && s.recovery && !has_alert(*s.condition)) recovery(s);
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
        for (const auto& v : c.values) {
          if (v.kind != ValueExpr::Kind::kLiteral || !v.literal.bare_milliseconds) continue;
          add(v.span,
              "a number without a unit compared with a latency is read as milliseconds: " +
                  v.literal.text,
              "write " + v.literal.text + " to say so");
          problems_.back().severity = DslProblem::Severity::kNote;
        }
        return;
      case Condition::Kind::kAlert:
        // Alert state comes from Prometheus, which the run reads after the traffic.
        if (statement_->kind == StatementKind::kAbortIf) {
          add(c.span, "alert(" + c.alert + ") cannot be used in abort_if",
              "alert state is read from Prometheus after the traffic; assert it under assert:");
        } else if (statement_->recovery) {
          add(c.span, "alert(" + c.alert + ") in a statement with a recovery 'within'",
              "an alert has its own limit: alert(" + c.alert + ") fires within 60s");
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

  // `... within D`: only in assertions, only after(P) with a phase after P (the recovery
  // window is that phase; see judge/evaluator.h), D no longer than that phase when its length
  // is known, and a metric to follow over time.
  void recovery(const Statement& s) {
    const Recovery& r = *s.recovery;
    const char* example = "e.g. after(trigger): p95 < 300ms within 20s";
    if (s.kind == StatementKind::kAbortIf) {
      add(r.span, "'within' cannot be used in abort_if",
          std::string("abort_if is judged while the run goes; state recovery times under "
                      "assert:, ") +
              example);
      return;
    }
    if (s.window.kind != Window::Kind::kAfter) {
      std::string hint =
          "the recovery clock starts when a phase ends (its faults are lifted): write "
          "after(PHASE): ... within " +
          format_duration(r.limit) + ", which judges the phase that follows PHASE";
      if (s.window.kind != Window::Kind::kOverall) {
        const auto it = std::find(ctx_.phases.begin(), ctx_.phases.end(), s.window.phase);
        if (it != ctx_.phases.end() && it != ctx_.phases.begin()) {
          hint = "write after(" + format_name(*(it - 1)) + "): ... within " +
                 format_duration(r.limit) + ": the clock starts when " + format_name(*(it - 1)) +
                 " ends, and " + format_name(s.window.phase) + " is judged";
        }
      }
      add(s.window.span, "'within' needs an after(PHASE) window, not " + to_string(s.window), hint);
      return;
    }
    if (!reads_own_metric(*s.condition)) {
      add(r.span, "'within' needs a metric of the statement's window",
          std::string("recovery follows that metric over time, ") + example);
    }
    const auto it = std::find(ctx_.phases.begin(), ctx_.phases.end(), s.window.phase);
    if (it == ctx_.phases.end()) return;  // unknown phase: reported by window()
    if (it + 1 == ctx_.phases.end()) {
      add(s.window.phase_span, "no phase follows '" + s.window.phase + "' to recover in",
          "after(P): ... within D judges the phase after P; add a phase after " +
              format_name(s.window.phase) + " or name an earlier phase");
      return;
    }
    const std::string& next = *(it + 1);
    const auto length = ctx_.phase_durations.find(next);
    if (length != ctx_.phase_durations.end() && r.limit > length->second) {
      add(r.limit_span,
          "within " + format_duration(r.limit) + " is longer than phase '" + next + "' (" +
              format_duration(length->second) + "), the recovery window after " +
              format_name(s.window.phase),
          "use at most " + format_duration(length->second) + ", or lengthen " + format_name(next) +
              " so the system is seen to stay recovered");
    }
  }

  // Whether a condition reads a metric of the statement's own window.
  static bool reads_own_metric(const Condition& c) {
    if (c.kind == Condition::Kind::kAnd || c.kind == Condition::Kind::kOr) {
      return std::any_of(c.operands.begin(), c.operands.end(), reads_own_metric);
    }
    return std::any_of(c.values.begin(), c.values.end(),
                       [](const ValueExpr& v) { return reads_metric(v, true); });
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
    if (m.side == MetricRef::Side::kRunFact) {
      run_fact(v);
      return;
    }
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
          add(span_in_quoted(matcher.value, m.value_spans[i], p->offset, p->length), p->message,
              "regexes use RE2 syntax, as in Prometheus, and match the whole label value");
        }
      } else if (matcher.name == "job") {
        known_name(matcher.value, ctx_.services, "service", m.value_spans[i]);
      }
    }
  }

  // history.* and verify.*(...) are known once the run is over and belong to no window: only
  // in `overall:` assertions, never with a window of their own.
  void run_fact(const ValueExpr& v) {
    const MetricRef& m = v.metric;
    const std::string what = to_string(m.fact);
    const std::string example =
        "e.g. overall: " + what +
        (m.fact.source == "history" && m.fact.name != "acknowledged" ? " == 0" : " > 0");
    if (statement_->kind == StatementKind::kAbortIf) {
      add(v.span, what + " is known only after the run",
          "abort_if is judged while the run goes; "
          "assert it under assert:, " +
              example);
    } else if (statement_->kind == StatementKind::kCompareGate) {
      add(v.span, what + " cannot be compared between runs",
          "assert it in each run under assert:, " + example);
    } else if (m.window) {
      add(m.window->span, what + " is a figure of the whole run, not of a window",
          "drop '" + to_string(*m.window) + ".' and use it in an overall: statement");
    } else if (statement_->window.kind != Window::Kind::kOverall) {
      add(v.span, what + " is a figure of the whole run, not of " + to_string(statement_->window),
          "write it in an overall: statement, " + example);
    }
    if (m.fact.source == "verify" && ctx_.verify_hooks) {
      const auto& hooks = *ctx_.verify_hooks;
      if (hooks.empty())
        add(m.name_span, "unknown verify hook '" + m.fact.name + "'",
            "the scenario has no verify hooks: add one under hooks.verify");
      else
        known_name(m.fact.name, hooks, "verify hook", m.name_span);
    }
  }

  const DslContext& ctx_;
  const Statement* statement_ = nullptr;
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
