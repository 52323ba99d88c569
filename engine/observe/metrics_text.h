// The value types of one scrape of a Prometheus text exposition (format 0.0.4), as produced by
// MetricsTextParser (metrics_text_parser.h) and consumed by ScrapeStore (scrape_store.h).
//
// Invariants of a parsed Exposition:
//  - Labels are sorted by name, names are unique, and no label has an empty value (Prometheus'
//    storage treats `a=""` as "no label a", so the parser drops such labels).
//  - A sample belongs to exactly one family. Families appear in order of first mention.
//  - No two samples have the same (name, labels): a repeated series keeps its first value and
//    is counted in Exposition::duplicate_samples, as Prometheus' scraper does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::observe {

enum class MetricType : uint8_t { kUntyped, kCounter, kGauge, kHistogram, kSummary };

// "untyped", "counter", ... (the spelling of the TYPE line).
std::string_view metric_type_name(MetricType type);

struct Label {
  std::string name;
  std::string value;
  friend bool operator==(const Label&, const Label&) = default;
};

// Sorted by name, unique names.
using Labels = std::vector<Label>;

// The value of label `name`, or "" when absent (PromQL's convention).
std::string_view label_value(const Labels& labels, std::string_view name);

// Sets *key to a byte string identifying the series (name, labels): equal keys, same series.
// Unambiguous because 0xff never occurs in names or in valid UTF-8 values.
void series_key(std::string_view name, const Labels& labels, std::string* key);

struct MetricSample {
  std::string name;  // full sample name: "http_requests_total", "latency_seconds_bucket"
  Labels labels;
  double value = 0;
  std::optional<int64_t> timestamp_ms;  // as written; faultline uses its own scrape times
};

struct MetricFamily {
  std::string name;  // "latency_seconds" for the samples latency_seconds_{bucket,sum,count}
  MetricType type = MetricType::kUntyped;
  bool has_type_line = false;  // false: the family was implied by samples without TYPE
  std::string help;            // unescaped
  bool has_help_line = false;
  std::vector<MetricSample> samples;  // in exposition order
};

struct Exposition {
  std::vector<MetricFamily> families;
  size_t sample_count = 0;       // samples kept, over all families
  size_t duplicate_samples = 0;  // repeated series dropped (the first one is kept)

  // The family named `name`, or nullptr.
  const MetricFamily* find_family(std::string_view name) const;
};

}  // namespace faultline::observe
