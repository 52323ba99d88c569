// The small languages inside a route: request lines ("GET /users/{user_id}"), templates with
// {name} placeholders (paths, header values, bodies) and variable generators
// ("uniform(1, 1000)"). The loader uses these to check a spec; the plan compiler uses
// find_placeholders to fill templates, so both read templates the same way.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spec/scenario.h"

namespace faultline {

// Placeholders every route has besides its vars: {seq} (the request's sequence number in the
// run, a number) and {request_id} (the request's X-Request-Id, text).
inline constexpr std::string_view kSeqPlaceholder = "seq";
inline constexpr std::string_view kRequestIdPlaceholder = "request_id";

struct TemplatePlaceholder {
  std::string name;  // without braces
  size_t offset;     // byte offset of '{' in the template
  size_t length;     // bytes from '{' to '}' inclusive
};

// A placeholder is '{', a name (letters, digits, '_', not starting with a digit), '}'.
// Everything else is literal text, including the braces of JSON bodies ({"a":1} has none);
// there is no escape. Placeholders are returned in order.
std::vector<TemplatePlaceholder> find_placeholders(std::string_view text);

struct RequestLine {
  std::string method;  // "GET", "POST", ... (upper case)
  std::string path;    // starts with '/'; may hold placeholders and a query string
};

struct TextProblem {
  size_t offset = 0;  // byte offset in the text that was parsed
  size_t length = 1;
  std::string message;
  std::string hint;
};

// Parses "METHOD /path". On failure returns nullopt and fills `problem`.
std::optional<RequestLine> parse_request_line(std::string_view text, TextProblem& problem);

// Parses a generator: uniform(a, b) | zipf(n, s) | choice([x, y, ...]) |
// sequence() | sequence(start) | sequence(start, step) | sequence(start=S, step=T).
// Fills kind and parameters of `out` (not name/loc). On failure returns false with `problem`.
bool parse_var_expression(std::string_view text, VarSpec& out, TextProblem& problem);

// True for generators whose values are numbers (uniform, zipf, sequence) and for {seq}.
bool is_numeric_var(VarSpec::Kind kind);

}  // namespace faultline
