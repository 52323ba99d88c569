#include "observe/metrics_text.h"

#include <algorithm>

namespace faultline::observe {

std::string_view metric_type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kUntyped:
      break;
  }
  return "untyped";
}

std::string_view label_value(const Labels& labels, std::string_view name) {
  auto it = std::lower_bound(labels.begin(), labels.end(), name,
                             [](const Label& l, std::string_view n) { return l.name < n; });
  if (it != labels.end() && it->name == name) return it->value;
  return {};
}

void series_key(std::string_view name, const Labels& labels, std::string* key) {
  key->assign(name);
  for (const Label& l : labels) {
    *key += '\xff';
    *key += l.name;
    *key += '\xff';
    *key += l.value;
  }
}

const MetricFamily* Exposition::find_family(std::string_view name) const {
  for (const MetricFamily& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace faultline::observe
