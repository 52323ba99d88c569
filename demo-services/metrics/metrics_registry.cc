#include "metrics/metrics_registry.h"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace faultline::demo {

namespace {

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.rfind("__", 0) == 0) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    const bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

// name{a="x",b="y"} or name{a="x",le="0.1"}; `extra` is an already formatted pair or empty.
void append_series(std::string& out, std::string_view name, const std::vector<std::string>& keys,
                   const std::vector<std::string>& values, std::string_view extra_key = {},
                   std::string_view extra_value = {}) {
  out.append(name);
  if (keys.empty() && extra_key.empty()) return;
  out.push_back('{');
  bool first = true;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!first) out.push_back(',');
    first = false;
    out.append(keys[i]).append("=\"").append(escape_label_value(values[i])).push_back('"');
  }
  if (!extra_key.empty()) {
    if (!first) out.push_back(',');
    out.append(extra_key).append("=\"").append(extra_value).push_back('"');
  }
  out.push_back('}');
}

void append_sample(std::string& out, double value) {
  out.push_back(' ');
  out.append(format_sample_value(value));
  out.push_back('\n');
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out.append("\\\\");
    else if (c == '"')
      out.append("\\\"");
    else if (c == '\n')
      out.append("\\n");
    else
      out.push_back(c);
  }
  return out;
}

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

std::string format_sample_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, res.ptr);
}

const std::vector<double>& latency_buckets_seconds() {
  static const std::vector<double> buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1,
                                              0.15,  0.2,    0.25,  0.3,  0.4,   0.5,  0.65,  0.8,
                                              1,     1.25,   1.5,   2,    3,     5,    10,    30};
  return buckets;
}

void Counter::inc(double by) {
  if (!(by >= 0)) throw std::invalid_argument("a counter can only go up");
  value_.fetch_add(by, std::memory_order_relaxed);
}

void Gauge::add(double by) {
  value_.fetch_add(by, std::memory_order_relaxed);
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  // Bucket i holds values in (bounds[i-1], bounds[i]]: le is "less than or equal".
  size_t i = 0;
  while (i < bounds_.size() && value > bounds_[i]) ++i;
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[i];
  sum_ += value;
  ++count_;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.sum = sum_;
  s.count = count_;
  return s;
}

FamilyBase::FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {
  if (!valid_metric_name(name_)) throw std::invalid_argument("bad metric name '" + name_ + "'");
  for (size_t i = 0; i < label_names_.size(); ++i) {
    if (!valid_label_name(label_names_[i]))
      throw std::invalid_argument("bad label name '" + label_names_[i] + "' on " + name_);
    for (size_t j = 0; j < i; ++j)
      if (label_names_[j] == label_names_[i])
        throw std::invalid_argument("duplicate label '" + label_names_[i] + "' on " + name_);
  }
}

void FamilyBase::render_header(std::string& out, std::string_view type) const {
  out.append("# HELP ").append(name_).push_back(' ');
  out.append(escape_help(help_)).push_back('\n');
  out.append("# TYPE ").append(name_).push_back(' ');
  out.append(type).push_back('\n');
}

void FamilyBase::check_label_count(size_t n) const {
  if (n != label_names_.size())
    throw std::invalid_argument(name_ + " takes " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(n));
}

void CounterFamily::render(std::string& out) const {
  render_header(out, "counter");
  for_each_child([&](const std::vector<std::string>& values, const Counter& c) {
    append_series(out, name_, label_names_, values);
    append_sample(out, c.value());
  });
}

void GaugeFamily::render(std::string& out) const {
  render_header(out, "gauge");
  for_each_child([&](const std::vector<std::string>& values, const Gauge& g) {
    append_series(out, name_, label_names_, values);
    append_sample(out, g.value());
  });
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, std::vector<double> bounds)
    : Family<Histogram>(std::move(name), std::move(help), std::move(label_names)),
      bounds_(std::move(bounds)) {
  for (const auto& l : label_names_)
    if (l == "le") throw std::invalid_argument("histogram " + name_ + " may not use label 'le'");
  if (bounds_.empty()) throw std::invalid_argument("histogram " + name_ + " needs buckets");
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (!std::isfinite(bounds_[i]))
      throw std::invalid_argument("histogram " + name_ + ": bucket bounds must be finite");
    if (i > 0 && !(bounds_[i] > bounds_[i - 1]))
      throw std::invalid_argument("histogram " + name_ + ": bounds must increase strictly");
  }
}

std::unique_ptr<Histogram> HistogramFamily::make_child() const {
  return std::make_unique<Histogram>(bounds_);
}

void HistogramFamily::render(std::string& out) const {
  render_header(out, "histogram");
  const std::string bucket = name_ + "_bucket";
  const std::string sum = name_ + "_sum";
  const std::string count = name_ + "_count";
  for_each_child([&](const std::vector<std::string>& values, const Histogram& h) {
    const Histogram::Snapshot s = h.snapshot();
    for (size_t i = 0; i < s.bounds.size(); ++i) {
      append_series(out, bucket, label_names_, values, "le", format_sample_value(s.bounds[i]));
      append_sample(out, static_cast<double>(s.cumulative[i]));
    }
    append_series(out, bucket, label_names_, values, "le", "+Inf");
    append_sample(out, static_cast<double>(s.count));
    append_series(out, sum, label_names_, values);
    append_sample(out, s.sum);
    append_series(out, count, label_names_, values);
    append_sample(out, static_cast<double>(s.count));
  });
}

template <class F>
F& MetricsRegistry::add(std::unique_ptr<F> family) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_)
    if (f->name() == family->name())
      throw std::invalid_argument("metric " + family->name() + " is registered twice");
  F& ref = *family;
  families_.push_back(std::move(family));
  return ref;
}

CounterFamily& MetricsRegistry::counter(std::string name, std::string help,
                                        std::vector<std::string> label_names) {
  return add(
      std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names)));
}

GaugeFamily& MetricsRegistry::gauge(std::string name, std::string help,
                                    std::vector<std::string> label_names) {
  return add(
      std::make_unique<GaugeFamily>(std::move(name), std::move(help), std::move(label_names)));
}

HistogramFamily& MetricsRegistry::histogram(std::string name, std::string help,
                                            std::vector<std::string> label_names,
                                            std::vector<double> bounds) {
  return add(std::make_unique<HistogramFamily>(std::move(name), std::move(help),
                                               std::move(label_names), std::move(bounds)));
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
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& f : families_) f->render(out);
  return out;
}

}  // namespace faultline::demo
