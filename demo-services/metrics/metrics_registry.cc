#include "metrics/metrics_registry.h"

#include <prometheus/check_names.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace faultline::demo {

const std::vector<double>& latency_buckets_seconds() {
  static const std::vector<double> buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1,
                                              0.15,  0.2,    0.25,  0.3,  0.4,   0.5,  0.65,  0.8,
                                              1,     1.25,   1.5,   2,    3,     5,    10,    30};
  return buckets;
}

namespace {

// prometheus-cpp 1.0.1 writes HELP text as given; the text format wants \ and newline escaped.
std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\')
      out.append("\\\\");
    else if (c == '\n')
      out.append("\\n");
    else
      out.push_back(c);
  }
  return out;
}

}  // namespace

// Registry::InsertBehavior::Throw: a second family of one name is a bug here, not a merge.
MetricsRegistry::MetricsRegistry() : registry_(prometheus::Registry::InsertBehavior::Throw) {}

MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::check_new_family(const std::string& name,
                                       const std::vector<std::string>& label_names) {
  if (!prometheus::CheckMetricName(name))
    throw std::invalid_argument("bad metric name '" + name + "'");
  if (std::find(names_.begin(), names_.end(), name) != names_.end())
    throw std::invalid_argument("metric " + name + " is registered twice");
  for (size_t i = 0; i < label_names.size(); ++i) {
    if (!prometheus::CheckLabelName(label_names[i]))
      throw std::invalid_argument("bad label name '" + label_names[i] + "' on " + name);
    for (size_t j = 0; j < i; ++j)
      if (label_names[j] == label_names[i])
        throw std::invalid_argument("duplicate label '" + label_names[i] + "' on " + name);
  }
}

CounterFamily& MetricsRegistry::counter(std::string name, std::string help,
                                        std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  check_new_family(name, label_names);
  auto& family = prometheus::BuildCounter().Name(name).Help(escape_help(help)).Register(registry_);
  counters_.push_back(
      std::make_unique<CounterFamily>(family, name, std::move(label_names), std::vector<double>{}));
  names_.push_back(std::move(name));
  return *counters_.back();
}

GaugeFamily& MetricsRegistry::gauge(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  std::lock_guard<std::mutex> lock(mu_);
  check_new_family(name, label_names);
  auto& family = prometheus::BuildGauge().Name(name).Help(escape_help(help)).Register(registry_);
  gauges_.push_back(
      std::make_unique<GaugeFamily>(family, name, std::move(label_names), std::vector<double>{}));
  names_.push_back(std::move(name));
  return *gauges_.back();
}

HistogramFamily& MetricsRegistry::histogram(std::string name, std::string help,
                                            std::vector<std::string> label_names,
                                            std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  check_new_family(name, label_names);
  // prometheus-cpp checks neither: "le" would clash with the bucket label, and unordered
  // bounds would render non-cumulative buckets.
  for (const auto& l : label_names)
    if (l == "le") throw std::invalid_argument("histogram " + name + " may not use label 'le'");
  if (bounds.empty()) throw std::invalid_argument("histogram " + name + " needs buckets");
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]))
      throw std::invalid_argument("histogram " + name + ": bucket bounds must be finite");
    if (i > 0 && !(bounds[i] > bounds[i - 1]))
      throw std::invalid_argument("histogram " + name + ": bounds must increase strictly");
  }
  auto& family =
      prometheus::BuildHistogram().Name(name).Help(escape_help(help)).Register(registry_);
  histograms_.push_back(
      std::make_unique<HistogramFamily>(family, name, std::move(label_names), std::move(bounds)));
  names_.push_back(std::move(name));
  return *histograms_.back();
}

void MetricsRegistry::add_collect_hook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  hooks_.push_back(std::move(hook));
}

std::string MetricsRegistry::render() const {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hooks = hooks_;
  }
  for (const auto& hook : hooks) hook();
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_.Collect());
  return out.str();
}

}  // namespace faultline::demo
