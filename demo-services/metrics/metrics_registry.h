// The demo services' Prometheus registry: prometheus-cpp (Debian 12's prometheus-cpp-dev 1.0.1)
// holds the metrics and writes the text exposition format 0.0.4; the services serve it on their
// own /metrics route (prometheus-cpp's exposer is not used, so the bulkhead, request ids and
// request metrics of http/http_server.h cover /metrics like every other route).
//
// What this layer adds to prometheus-cpp:
//  - families with a fixed, ordered list of label names, whose children are addressed by that
//    many positional values (with({"/orders", "POST", "201"})), checked on every call;
//  - collect hooks, run before every render, for gauges sampled rather than tracked;
//  - registration that refuses what prometheus-cpp would accept silently: a name registered
//    twice, a bad or duplicate label name, "le" on a histogram, bounds that do not increase.
//
// Invariants:
//  - Family names are unique in a registry. A child reference returned by with() stays valid
//    for the registry's lifetime (prometheus-cpp owns the children and never moves them).
//  - A family without children is not rendered (prometheus-cpp omits it); families whose
//    series must read 0 from start-up create their children at registration.
//  - Rendered label pairs are sorted by label name (prometheus-cpp keeps labels in a std::map);
//    a histogram's "le" comes last. Consumers must not depend on label order.
//
// Thread-safety: every method may be called concurrently from any thread; so may the methods of
// prometheus::Counter, Gauge and Histogram.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace faultline::demo {

using Counter = prometheus::Counter;
using Gauge = prometheus::Gauge;
using Histogram = prometheus::Histogram;

// A named metric with a fixed list of label names and one child per label-value combination.
template <class Metric>
class MetricFamily {
 public:
  MetricFamily(prometheus::Family<Metric>& family, std::string name,
               std::vector<std::string> label_names, std::vector<double> bounds)
      : family_(family),
        name_(std::move(name)),
        label_names_(std::move(label_names)),
        bounds_(std::move(bounds)) {}
  MetricFamily(const MetricFamily&) = delete;
  MetricFamily& operator=(const MetricFamily&) = delete;

  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // The child for these label values (created on first use).
  // REQUIRES: values.size() == label_names().size(); throws std::invalid_argument otherwise.
  Metric& with(const std::vector<std::string>& values) {
    check_label_count(values.size());
    std::lock_guard<std::mutex> lock(mu_);
    // A cache in front of prometheus::Family::Add, which builds a label map and, for a
    // histogram, a whole new histogram on every call before finding the existing child.
    auto it = children_.find(values);
    if (it != children_.end()) return *it->second;
    prometheus::Labels labels;
    for (size_t i = 0; i < values.size(); ++i) labels.emplace(label_names_[i], values[i]);
    Metric* child = nullptr;
    if constexpr (std::is_same_v<Metric, Histogram>)
      child = &family_.Add(labels, bounds_);
    else
      child = &family_.Add(labels);
    children_.emplace(values, child);
    return *child;
  }

 private:
  void check_label_count(size_t n) const {
    if (n != label_names_.size())
      throw std::invalid_argument(name_ + " takes " + std::to_string(label_names_.size()) +
                                  " label values, got " + std::to_string(n));
  }

  prometheus::Family<Metric>& family_;
  std::string name_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;  // histograms only
  std::mutex mu_;
  std::map<std::vector<std::string>, Metric*> children_;
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registration throws std::invalid_argument on a bad or duplicate name, a bad or duplicate
  // label name, or (histograms) the label "le" or bounds that are not strictly increasing and
  // finite.
  CounterFamily& counter(std::string name, std::string help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  HistogramFamily& histogram(std::string name, std::string help,
                             std::vector<std::string> label_names, std::vector<double> bounds);

  // Runs before every render, to refresh gauges that are sampled rather than tracked
  // (ratios, knob values, lease state).
  void add_collect_hook(std::function<void()> hook);

  // The whole exposition, text format 0.0.4 (prometheus::TextSerializer).
  std::string render() const;

 private:
  void check_new_family(const std::string& name, const std::vector<std::string>& label_names);

  prometheus::Registry registry_;
  mutable std::mutex mu_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<CounterFamily>> counters_;
  std::vector<std::unique_ptr<GaugeFamily>> gauges_;
  std::vector<std::unique_ptr<HistogramFamily>> histograms_;
  std::vector<std::function<void()>> hooks_;
};

// Buckets (seconds) fine enough to tell 100 ms, 300 ms, 800 ms and 1.5 s apart: each is a bound.
const std::vector<double>& latency_buckets_seconds();

// The Content-Type of render()'s output.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace faultline::demo
