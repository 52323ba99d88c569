#include "spec/route_template.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include "common/text.h"
#include "net/allowlist.h"

namespace faultline {

namespace {

bool is_name_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_';
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// A cursor over a generator's argument list, keeping byte offsets for problems.
class ArgCursor {
 public:
  ArgCursor(std::string_view text, size_t pos) : text_(text), pos_(pos) {}

  void skip_space() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool at(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  // A token up to ',', ')' or ']' (trimmed).
  std::string_view token() {
    skip_space();
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != ')' && text_[pos_] != ']') {
      ++pos_;
    }
    size_t end = pos_;
    while (end > start && std::isspace(static_cast<unsigned char>(text_[end - 1]))) --end;
    token_start_ = start;
    return text_.substr(start, end - start);
  }
  // A quoted string ('...' or "...") or a bare token.
  std::optional<std::string> choice_value(TextProblem& problem) {
    skip_space();
    if (pos_ < text_.size() && (text_[pos_] == '"' || text_[pos_] == '\'')) {
      const char quote = text_[pos_];
      const size_t start = pos_;
      const size_t close = text_.find(quote, pos_ + 1);
      if (close == std::string_view::npos) {
        problem = {start, 1, "quoted value is not closed", ""};
        return std::nullopt;
      }
      pos_ = close + 1;
      return std::string(text_.substr(start + 1, close - start - 1));
    }
    const std::string_view t = token();
    if (t.empty()) {
      problem = {pos_, 1, "expected a value", ""};
      return std::nullopt;
    }
    return std::string(t);
  }
  size_t pos() const { return pos_; }
  size_t token_start() const { return token_start_; }
  bool done() {
    skip_space();
    return pos_ >= text_.size();
  }

 private:
  std::string_view text_;
  size_t pos_;
  size_t token_start_ = 0;
};

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  if (s.starts_with('+')) s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> to_double(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

std::vector<TemplatePlaceholder> find_placeholders(std::string_view text) {
  std::vector<TemplatePlaceholder> out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{' || i + 1 >= text.size() || !is_name_start(text[i + 1])) continue;
    size_t j = i + 1;
    while (j < text.size() && is_name_char(text[j])) ++j;
    if (j < text.size() && text[j] == '}') {
      out.push_back({std::string(text.substr(i + 1, j - i - 1)), i, j - i + 1});
      i = j;
    }
  }
  return out;
}

std::optional<RequestLine> parse_request_line(std::string_view text, TextProblem& problem) {
  const size_t space = text.find(' ');
  if (space == std::string_view::npos || space == 0) {
    problem = {0, text.size(), "expected a method and a path like \"GET /users/{user_id}\"",
               "write the HTTP method, one space, then the path"};
    return std::nullopt;
  }
  RequestLine line{std::string(text.substr(0, space)), std::string(text.substr(space + 1))};
  for (char c : line.method) {
    if (!std::isupper(static_cast<unsigned char>(c))) {
      problem = {0, space, "\"" + line.method + "\" is not an HTTP method",
                 "use an upper-case method: GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS"};
      return std::nullopt;
    }
  }
  if (line.path.empty() || line.path[0] != '/' || line.path.find(' ') != std::string::npos) {
    problem = {space + 1, std::max<size_t>(1, line.path.size()),
               "expected a path starting with '/' and without spaces",
               "the target service comes from `target`; write only the path, e.g. /orders"};
    return std::nullopt;
  }
  // What curl would refuse or cut off (net/allowlist.h); spaces were reported above.
  if (const auto bad = url_path_problem(line.path)) {
    problem = {space + 1 + bad->offset, bad->length, bad->message,
               "percent-encode it (%23 for '#', %20 for a space) if the server should see it"};
    return std::nullopt;
  }
  return line;
}

bool is_numeric_var(VarSpec::Kind kind) {
  return kind == VarSpec::Kind::kUniform || kind == VarSpec::Kind::kZipf ||
         kind == VarSpec::Kind::kSequence;
}

bool parse_var_expression(std::string_view text, VarSpec& out, TextProblem& problem) {
  const std::string_view usage =
      "generators: uniform(1, 1000), zipf(1000, 1.1), choice([a, b, c]), sequence(), "
      "sequence(100, 1)";
  size_t i = 0;
  while (i < text.size() && is_name_char(text[i])) ++i;
  const std::string_view fn = text.substr(0, i);
  ArgCursor c(text, i);
  if (!c.eat('(')) {
    problem = {0, std::max<size_t>(1, i), "expected a generator like uniform(1, 1000)",
               std::string(usage)};
    return false;
  }
  auto fail = [&](size_t offset, size_t length, std::string message) {
    problem = {offset, std::max<size_t>(1, length), std::move(message), std::string(usage)};
    return false;
  };
  auto close = [&]() {
    if (!c.eat(')')) return fail(c.pos(), 1, "expected ')'");
    if (!c.done()) return fail(c.pos(), text.size() - c.pos(), "unexpected text after ')'");
    return true;
  };
  if (fn == "uniform") {
    out.kind = VarSpec::Kind::kUniform;
    const std::string_view a = c.token();
    const size_t a_at = c.token_start();
    const auto lo = to_int(a);
    if (!lo) return fail(a_at, a.size(), "uniform(a, b): a must be a whole number");
    if (!c.eat(',')) return fail(c.pos(), 1, "uniform takes two whole numbers: uniform(a, b)");
    const std::string_view b = c.token();
    const size_t b_at = c.token_start();
    const auto hi = to_int(b);
    if (!hi) return fail(b_at, b.size(), "uniform(a, b): b must be a whole number");
    if (*hi < *lo) return fail(a_at, b_at + b.size() - a_at, "uniform(a, b) needs a <= b");
    out.lo = *lo;
    out.hi = *hi;
    return close();
  }
  if (fn == "zipf") {
    out.kind = VarSpec::Kind::kZipf;
    const std::string_view a = c.token();
    const size_t a_at = c.token_start();
    const auto n = to_int(a);
    if (!n || *n < 1) {
      return fail(a_at, a.size(),
                  "zipf(n, s): n must be a whole number from 1 to 9223372036854775807");
    }
    if (!c.eat(',')) return fail(c.pos(), 1, "zipf takes two numbers: zipf(n, s)");
    const std::string_view b = c.token();
    const size_t b_at = c.token_start();
    const auto s = to_double(b);
    if (!s || *s <= 0) return fail(b_at, b.size(), "zipf(n, s): s must be a number > 0");
    out.n = static_cast<uint64_t>(*n);
    out.s = *s;
    return close();
  }
  if (fn == "choice") {
    out.kind = VarSpec::Kind::kChoice;
    if (!c.eat('[')) return fail(c.pos(), 1, "choice takes a list: choice([a, b, c])");
    out.choices.clear();
    if (!c.at(']')) {
      do {
        auto v = c.choice_value(problem);
        if (!v) {
          problem.hint = std::string(usage);
          return false;
        }
        out.choices.push_back(std::move(*v));
      } while (c.eat(','));
    }
    if (!c.eat(']')) return fail(c.pos(), 1, "expected ']' to close the list of choice");
    if (out.choices.empty()) return fail(i, text.size() - i, "choice needs at least one value");
    return close();
  }
  if (fn == "sequence") {
    out.kind = VarSpec::Kind::kSequence;
    out.start = 1;
    out.step = 1;
    int position = 0;
    while (!c.at(')') && !c.done()) {
      if (position > 0 && !c.eat(',')) return fail(c.pos(), 1, "expected ',' or ')'");
      std::string_view t = c.token();
      size_t t_at = c.token_start();
      bool is_step = position == 1;
      if (t.starts_with("start=") || t.starts_with("step=")) {
        is_step = t.starts_with("step=");
        const size_t eq = t.find('=') + 1;
        t_at += eq;
        t.remove_prefix(eq);
        while (!t.empty() && t[0] == ' ') t.remove_prefix(1), ++t_at;
      } else if (position > 1) {
        return fail(t_at, t.size(), "sequence takes at most start and step");
      }
      const auto v = to_int(t);
      if (!v) return fail(t_at, t.size(), "sequence(start, step) takes whole numbers");
      if (is_step && *v == 0) return fail(t_at, t.size(), "sequence step must not be 0");
      (is_step ? out.step : out.start) = *v;
      ++position;
    }
    return close();
  }
  fail(0, std::max<size_t>(1, fn.size()), "unknown generator \"" + std::string(fn) + "\"");
  if (auto m = closest_match(fn, {"uniform", "zipf", "choice", "sequence"})) {
    problem.hint = "did you mean " + *m + "(...)? " + problem.hint;
  }
  return false;
}

}  // namespace faultline
