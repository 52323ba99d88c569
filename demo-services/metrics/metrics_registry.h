// A small Prometheus metrics registry (prometheus-cpp is not packaged for Debian 12): counters,
// gauges and histograms in labelled families, rendered in the text exposition format 0.0.4 that
// `promtool check metrics` accepts without lint findings.
//
// Invariants:
//  - Family names are unique in a registry; label names are fixed per family and a child is
//    addressed by exactly that many values. Histogram families may not use the label "le".
//  - A child reference returned by with() stays valid for the registry's lifetime.
//  - Histogram bucket bounds are strictly increasing and finite; +Inf is implicit. Rendered
//    buckets are cumulative, and _count equals the +Inf bucket of the same snapshot.
//  - Output is deterministic: families in registration order, children sorted by label values.
//
// Thread-safety: every method may be called concurrently from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::demo {

class Counter {
 public:
  // REQUIRES: by >= 0 (counters only go up).
  void inc(double by = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void add(double by);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds`: upper bounds of the finite buckets, strictly increasing (checked by the family).
  explicit Histogram(std::vector<double> bounds);

  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;        // finite upper bounds
    std::vector<uint64_t> cumulative;  // one per bound, then one for +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last is (last bound, +Inf)
  double sum_ = 0;
  uint64_t count_ = 0;
};

// A named metric with a fixed set of label names and one child per label-value combination.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  virtual void render(std::string& out) const = 0;

 protected:
  void render_header(std::string& out, std::string_view type) const;
  void check_label_count(size_t n) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

template <class Metric>
class Family : public FamilyBase {
 public:
  using FamilyBase::FamilyBase;

  // The child for these label values (created on first use).
  // REQUIRES: values.size() == label_names().size(); throws std::invalid_argument otherwise.
  Metric& with(const std::vector<std::string>& values) {
    check_label_count(values.size());
    std::lock_guard<std::mutex> lock(mu_);
    auto it = children_.find(values);
    if (it == children_.end()) it = children_.emplace(values, make_child()).first;
    return *it->second;
  }

 protected:
  virtual std::unique_ptr<Metric> make_child() const = 0;
  // Children in label-value order, under the family lock.
  void for_each_child(
      const std::function<void(const std::vector<std::string>&, const Metric&)>& fn) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [values, child] : children_) fn(values, *child);
  }

 private:
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<Metric>> children_;
};

class CounterFamily : public Family<Counter> {
 public:
  using Family<Counter>::Family;
  void render(std::string& out) const override;

 protected:
  std::unique_ptr<Counter> make_child() const override { return std::make_unique<Counter>(); }
};

class GaugeFamily : public Family<Gauge> {
 public:
  using Family<Gauge>::Family;
  void render(std::string& out) const override;

 protected:
  std::unique_ptr<Gauge> make_child() const override { return std::make_unique<Gauge>(); }
};

class HistogramFamily : public Family<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);
  void render(std::string& out) const override;

 protected:
  std::unique_ptr<Histogram> make_child() const override;

 private:
  std::vector<double> bounds_;
};

class MetricsRegistry {
 public:
  // Registration throws std::invalid_argument on a bad or duplicate name, a bad label name,
  // or (histograms) bounds that are not strictly increasing and finite.
  CounterFamily& counter(std::string name, std::string help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(std::string name, std::string help, std::vector<std::string> label_names = {});
  HistogramFamily& histogram(std::string name, std::string help,
                             std::vector<std::string> label_names, std::vector<double> bounds);

  // Runs before every render, to refresh gauges that are sampled rather than tracked
  // (ratios, knob values, lease state).
  void add_collect_hook(std::function<void()> hook);

  // The whole exposition, text format 0.0.4.
  std::string render() const;

 private:
  template <class F>
  F& add(std::unique_ptr<F> family);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<FamilyBase>> families_;
  std::vector<std::function<void()>> hooks_;
};

// Buckets (seconds) fine enough to tell 100 ms, 300 ms, 800 ms and 1.5 s apart: each is a bound.
const std::vector<double>& latency_buckets_seconds();

// Text-format escaping: label values escape \ " and newline; HELP escapes \ and newline.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
// Sample value: shortest round-trip decimal, or +Inf / -Inf / NaN.
std::string format_sample_value(double value);

// The Content-Type of render()'s output.
inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace faultline::demo
