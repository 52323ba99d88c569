// The canonical text of a statement and of its parts. Used in reports and in the plan hash,
// so it must be stable: printing a parsed statement and parsing the result gives the same
// tree again (parse -> print -> parse is a fixed point). Canonical means: single spaces
// around operators, `key=value` selectors in the order route, method, status, error,
// server matchers sorted, durations in their shortest exact form (1500ms -> 1.5s),
// parentheses only where needed.
#pragma once

#include <string>
#include <string_view>

#include "dsl/ast.h"

namespace faultline::dsl {

std::string to_string(const Statement& statement);
std::string to_string(const Window& window);  // "during(trigger, last 10s)"
std::string to_string(const Condition& condition);
std::string to_string(const ValueExpr& value);
std::string to_string(const MetricRef& metric);    // with its window prefix when it has one
std::string to_string(const ClientQuery& query);   // "p95(route=orders, status=5xx)"
std::string to_string(const ServerQuery& query);   // "metric.p95(name{route=\"/orders\"})"
std::string to_string(const RunFactQuery& query);  // "history.lost", "verify.x(\"/n\")"
std::string to_string(CompareOp op);               // ">="
std::string to_string(Gate::Direction direction);  // "improves"

// The shortest decimal text (no exponent) that reads back as exactly `value`: 2, 0.5, 1234.
std::string format_plain_number(double value);

// A name as the lexer reads it back: bare when it is one identifier or number token
// (orders, 5xx, trigger), else double-quoted with \\ \" \n escapes.
std::string format_name(std::string_view name);
std::string quote(std::string_view text);

}  // namespace faultline::dsl
