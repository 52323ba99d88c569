#include "dsl/vocabulary.h"

#include <algorithm>
#include <cctype>

namespace faultline::dsl {

namespace {

bool contains(const std::vector<std::string>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

}  // namespace

const std::vector<std::string>& client_metric_names() {
  static const std::vector<std::string> names{"p50", "p90",  "p95", "p99",        "p999",
                                              "max", "mean", "rps", "error_rate", "count"};
  return names;
}

std::optional<ValueType> client_metric_type(std::string_view metric) {
  if (!quantile_level(metric) && !contains(client_metric_names(), metric)) return std::nullopt;
  if (metric == "error_rate") return ValueType::kFraction;
  if (metric == "rps") return ValueType::kRate;
  if (metric == "count") return ValueType::kNumber;
  return ValueType::kDuration;
}

const std::vector<std::string>& server_function_names() {
  static const std::vector<std::string> names{"p50", "p90", "p95",  "p99",      "p999", "max",
                                              "min", "avg", "last", "increase", "rate"};
  return names;
}

std::optional<ServerFunctionKind> server_function_kind(std::string_view function) {
  if (quantile_level(function)) return ServerFunctionKind::kQuantile;
  if (function == "max" || function == "min" || function == "avg" || function == "last") {
    return ServerFunctionKind::kGauge;
  }
  if (function == "increase" || function == "rate") return ServerFunctionKind::kCounter;
  return std::nullopt;
}

std::optional<double> quantile_level(std::string_view name) {
  // "p" and the digits after "0.": two digits (p05 p50 p75 p90 p99), or three or four that
  // add precision (p975 p999 p9999) and so do not end in 0 (p500 would be p50 spelt twice,
  // p100 reads as 10% to some and 100% to others). p00 is no quantile.
  if (name.size() < 3 || name.size() > 5 || name[0] != 'p') return std::nullopt;
  const std::string_view digits = name.substr(1);
  if (!std::all_of(digits.begin(), digits.end(),
                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
    return std::nullopt;
  if (digits.size() > 2 && digits.back() == '0') return std::nullopt;
  double level = 0;
  double scale = 0.1;
  for (const char c : digits) {
    level += (c - '0') * scale;
    scale /= 10;
  }
  if (level <= 0) return std::nullopt;
  return level;
}

const std::vector<std::string>& selector_keys() {
  static const std::vector<std::string> keys{"route", "method", "status", "error"};
  return keys;
}

const std::vector<std::string>& error_classes() {
  static const std::vector<std::string> classes{"timeout", "refused", "reset", "other"};
  return classes;
}

const std::vector<std::string>& http_methods() {
  static const std::vector<std::string> methods{"GET",   "POST", "PUT",    "DELETE",
                                                "PATCH", "HEAD", "OPTIONS"};
  return methods;
}

bool is_status_selector(std::string_view value) {
  if (value.size() != 3) return false;
  if (value[1] == 'x' && value[2] == 'x') return value[0] >= '2' && value[0] <= '5';
  if (value[0] < '1' || value[0] > '5') return false;
  return std::isdigit(static_cast<unsigned char>(value[1])) &&
         std::isdigit(static_cast<unsigned char>(value[2]));
}

const std::vector<std::string>& history_names() {
  static const std::vector<std::string> names{"lost",         "duplicated", "unexpected",
                                              "acknowledged", "applied",    "ack_missing"};
  return names;
}

bool is_keyword(std::string_view word) {
  static const std::vector<std::string> keywords{
      "during", "after",    "overall",   "last", "and",    "or",     "back",    "to",
      "normal", "improves", "regresses", "by",   "metric", "within", "history", "verify"};
  return contains(keywords, word);
}

ValueType metric_type(const MetricRef& metric) {
  if (metric.side == MetricRef::Side::kRunFact) return ValueType::kNumber;
  if (metric.side == MetricRef::Side::kClient) {
    return client_metric_type(metric.client.metric).value_or(ValueType::kNumber);
  }
  const std::string& name = metric.server.metric_name;
  switch (server_function_kind(metric.server.function).value_or(ServerFunctionKind::kGauge)) {
    case ServerFunctionKind::kQuantile:
      return name.ends_with("_bytes") ? ValueType::kNumber : ValueType::kDuration;
    case ServerFunctionKind::kGauge:
      if (name.ends_with("_seconds")) return ValueType::kDuration;
      if (name.ends_with("_ratio")) return ValueType::kFraction;
      return ValueType::kNumber;
    case ServerFunctionKind::kCounter:
      return metric.server.function == "rate" ? ValueType::kRate : ValueType::kNumber;
  }
  return ValueType::kNumber;
}

bool higher_is_better(const MetricRef& metric) {
  return metric.side == MetricRef::Side::kClient && metric.client.metric == "rps";
}

}  // namespace faultline::dsl
