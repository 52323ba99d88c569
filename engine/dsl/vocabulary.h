// The fixed words of the DSL: client metrics, server functions, selector keys and values,
// and what each measures. One table for the parser (did-you-mean), the checker (types) and
// the judge (direction of "better", quantile levels).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/ast.h"

namespace faultline::dsl {

// Client metrics: quantiles p<digits> (see quantile_level), max mean (latency, seconds),
// error_rate (fraction), rps (per second), count (number). client_metric_names() lists the
// usual ones (for hints); client_metric_type() accepts every quantile.
const std::vector<std::string>& client_metric_names();
std::optional<ValueType> client_metric_type(std::string_view metric);

enum class ServerFunctionKind {
  kQuantile,  // p50 p90 p95 p99 p999 ... (quantile_level): histogram_quantile over the window's
              // bucket increase
  kGauge,     // max min avg last: over the gauge's scrapes inside the window
  kCounter,   // increase rate: over the window, counter resets handled
};
const std::vector<std::string>& server_function_names();
std::optional<ServerFunctionKind> server_function_kind(std::string_view function);

// "p" then the digits after "0." of the level: p50 -> 0.5, p75 -> 0.75, p05 -> 0.05,
// p975 -> 0.975, p999 -> 0.999, p9999 -> 0.9999. Two digits, or three or four not ending in
// 0; nullopt for other names (p5, p100, p500, p00, max). Shared by client metrics and server
// functions.
std::optional<double> quantile_level(std::string_view name);

// Selector keys of client metrics, in canonical order, and the values the fixed ones take.
const std::vector<std::string>& selector_keys();  // route method status error
const std::vector<std::string>& error_classes();  // timeout refused reset other
const std::vector<std::string>& http_methods();   // GET POST PUT DELETE PATCH HEAD OPTIONS
// "2xx".."5xx" or an exact code 100..599.
bool is_status_selector(std::string_view value);

// The figures of `history.<name>`: lost duplicated unexpected acknowledged applied ack_missing.
const std::vector<std::string>& history_names();

// Words with a meaning in the grammar; they cannot name a metric.
bool is_keyword(std::string_view word);

// The type of a metric read. Server side: quantiles are durations in seconds (histograms
// named *_bytes are numbers); gauges take the unit of their name's suffix (_seconds duration,
// _ratio fraction, else number); rate is per second; increase is a number.
ValueType metric_type(const MetricRef& metric);

// Whether a larger value is the better one, for compare gates: true only for rps.
// Everything else (latency, error rates, counts, server metrics) is better lower.
bool higher_is_better(const MetricRef& metric);

}  // namespace faultline::dsl
