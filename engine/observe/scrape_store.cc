#include "observe/scrape_store.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <functional>
#include <map>
#include <stdexcept>
#include <unordered_map>

#include "observe/histogram_quantile.h"

namespace faultline::observe {

namespace {

// Marks "series missing from this scrape". A NaN payload no parsed value can have: the parser
// stores every NaN as the quiet NaN (0x7ff8000000000000).
constexpr uint64_t kAbsentBits = 0x7ff0000000000002ULL;
const double kAbsent = std::bit_cast<double>(kAbsentBits);
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_absent(double v) {
  return std::bit_cast<uint64_t>(v) == kAbsentBits;
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

size_t string_bytes(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 : 0;  // beyond the small-string buffer
}

// The successful scrapes a counter query reads: the baseline (last at or before start) and the
// points after start up to the last at or before end, as indices [lo, hi).
struct CounterSpan {
  std::optional<size_t> baseline;
  size_t lo = 0;
  size_t hi = 0;
};

CounterSpan counter_span(const std::vector<Duration>& times, TimeWindow w) {
  CounterSpan span;
  span.lo =
      static_cast<size_t>(std::upper_bound(times.begin(), times.end(), w.start) - times.begin());
  span.hi =
      static_cast<size_t>(std::upper_bound(times.begin(), times.end(), w.end) - times.begin());
  if (span.hi < span.lo) span.hi = span.lo;  // end < start: nothing inside
  if (span.lo > 0) span.baseline = span.lo - 1;
  return span;
}

// One stored series of one target.
struct Series {
  std::string name;
  Labels labels;
  size_t first = 0;            // index (in the target's scrapes) of values[0]
  std::vector<double> values;  // kAbsent where the series was missing from a scrape

  double at(size_t scrape) const {
    if (scrape < first || scrape - first >= values.size()) return kAbsent;
    return values[scrape - first];
  }
};

}  // namespace

struct ScrapeStore::Target {
  std::string job;
  std::vector<Duration> times;  // successful scrapes, increasing
  std::optional<Duration> last_at;
  std::vector<ScrapeFailure> failures;
  std::vector<Series> series;
  StringMap<size_t> index;                 // series key -> position in `series`
  StringMap<std::vector<size_t>> by_name;  // sample name -> positions in `series`
  size_t dropped = 0;
  std::string key;  // scratch

  void check_order(Duration at) {
    if (last_at && at <= *last_at) {
      throw std::invalid_argument("scrape of " + job + " at " + format_duration(at) +
                                  " is not after its previous scrape at " +
                                  format_duration(*last_at));
    }
    last_at = at;
  }

  // Failures in the window, and the earliest of them (null when none).
  size_t failures_in(TimeWindow w, const ScrapeFailure** first) const {
    size_t n = 0;
    *first = nullptr;
    for (const ScrapeFailure& f : failures) {
      if (f.at < w.start || f.at > w.end) continue;
      if (n++ == 0) *first = &f;
    }
    return n;
  }
};

namespace {

// Counter increase of one series over the span; nullopt when the series has no value there.
std::optional<double> series_increase(const Series& s, const CounterSpan& span) {
  bool have_prev = false;
  bool any = false;
  double prev = 0;
  if (span.baseline) {
    const double v = s.at(*span.baseline);
    if (is_absent(v)) {
      have_prev = true;  // not exported yet at the baseline: created during the window, from 0
    } else if (!std::isnan(v)) {
      prev = v;
      have_prev = true;
      any = true;
    }
  }
  double increase = 0;
  for (size_t k = span.lo; k < span.hi; ++k) {
    const double v = s.at(k);
    if (std::isnan(v)) continue;  // absent, or a NaN value
    any = true;
    if (have_prev) increase += v >= prev ? v - prev : v;  // a drop is a reset
    prev = v;
    have_prev = true;
  }
  if (!any) return std::nullopt;
  return increase;
}

std::string_view strip_suffix(std::string_view name, std::string_view suffix) {
  if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
    name.remove_suffix(suffix.size());
  }
  return name;
}

// Whether a `job` matcher selects a target. An instance of a service is scraped as job
// "api#1" and also answers to its service's name: job="api" and job=~"ap.*" select every
// instance of api, job="api#1" one, and job!="api" none of them.
bool job_selected(const LabelMatcher& m, std::string_view job) {
  const auto hash = job.find('#');
  if (hash == std::string_view::npos) return m.matches(job);
  const std::string_view service = job.substr(0, hash);
  const bool negative = m.op() == MatchOp::kNotEqual || m.op() == MatchOp::kRegexNoMatch;
  return negative ? m.matches(job) && m.matches(service) : m.matches(job) || m.matches(service);
}

// Calls f(target, series) for every stored series named `name` that the matchers select.
template <typename Targets, typename F>
void for_each_series(const Targets& targets, std::string_view name, const LabelMatchers& matchers,
                     F&& f) {
  for (const auto& t : targets) {
    bool job_ok = true;
    for (const LabelMatcher& m : matchers) {
      if (m.name() == "job" && !job_selected(m, t->job)) job_ok = false;
    }
    if (!job_ok) continue;
    auto it = t->by_name.find(name);
    if (it == t->by_name.end()) continue;
    for (size_t i : it->second) {
      const Series& s = t->series[i];
      bool ok = true;
      for (const LabelMatcher& m : matchers) {
        if (m.name() != "job" && !m.matches(s.labels)) {
          ok = false;
          break;
        }
      }
      if (ok) f(*t, s);
    }
  }
}

// Fills out.failed_scrapes and out.first_failure from the selected targets' failures.
template <typename Targets>
void note_failures(const Targets& targets, const LabelMatchers& matchers, TimeWindow w,
                   WindowValue& out) {
  out.failed_scrapes = 0;
  out.first_failure.clear();
  const ScrapeFailure* earliest = nullptr;
  std::string_view earliest_job;
  for (const auto& t : targets) {
    bool job_ok = true;
    for (const LabelMatcher& m : matchers) {
      if (m.name() == "job" && !job_selected(m, t->job)) job_ok = false;
    }
    if (!job_ok) continue;
    const ScrapeFailure* first = nullptr;
    out.failed_scrapes += t->failures_in(w, &first);
    if (first && (!earliest || first->at < earliest->at)) {
      earliest = first;
      earliest_job = t->job;
    }
  }
  if (earliest) {
    out.first_failure = std::string(earliest_job) + " at " + format_duration(earliest->at) + ": " +
                        (earliest->error.empty() ? "no reason given" : earliest->error);
  }
}

bool printable(char c) {
  return c >= 0x20 && c < 0x7f;
}

}  // namespace

std::string WindowValue::failure_note() const {
  if (failed_scrapes == 0) return "";
  return std::to_string(failed_scrapes) + " scrape(s) failed in the window; the first, " +
         first_failure;
}

std::string describe_scrape_failure(int http_status, std::string_view error_class,
                                    std::string_view error, std::string_view body,
                                    Duration timeout) {
  auto with_detail = [&](std::string what) {
    if (!error.empty()) what += " (" + std::string(error) + ")";
    return what;
  };
  if (error_class == "timeout") return with_detail("timeout after " + format_duration(timeout));
  if (error_class == "refused") return with_detail("connection refused");
  if (error_class == "reset") return with_detail("connection reset");
  if (error_class == "dns") return with_detail("host name not resolved");
  if (!error.empty()) return std::string(error);  // too_large, aborted, other: their own words
  if (!error_class.empty()) return "failed (" + std::string(error_class) + ")";
  if (http_status <= 0) return "no response and no reason given";
  std::string why = "HTTP " + std::to_string(http_status);
  if (body.empty()) return why;
  why += ": ";
  const size_t n = std::min(body.size(), kMaxBodyExcerpt);
  for (size_t i = 0; i < n; ++i) {
    const char c = body[i];
    why += (c == '\n' || c == '\r' || c == '\t') ? ' ' : printable(c) ? c : '?';
  }
  if (body.size() > n) why += "...";
  return why;
}

ScrapeStore::ScrapeStore(Options options)
    : options_(std::move(options)),
      interest_(options_.metric_names.begin(), options_.metric_names.end()) {}
ScrapeStore::~ScrapeStore() = default;
ScrapeStore::ScrapeStore(ScrapeStore&&) noexcept = default;
ScrapeStore& ScrapeStore::operator=(ScrapeStore&&) noexcept = default;

ScrapeStore::Target& ScrapeStore::target(std::string_view job) {
  for (auto& t : targets_) {
    if (t->job == job) return *t;
  }
  targets_.push_back(std::make_unique<Target>());
  targets_.back()->job = std::string(job);
  return *targets_.back();
}

const ScrapeStore::Target* ScrapeStore::find_target(std::string_view job) const {
  for (const auto& t : targets_) {
    if (t->job == job) return t.get();
  }
  return nullptr;
}

bool ScrapeStore::of_interest(std::string_view family, std::string_view sample) const {
  if (interest_.empty()) return true;
  return interest_.find(family) != interest_.end() || interest_.find(sample) != interest_.end();
}

void ScrapeStore::add_scrape(std::string_view job, Duration at, const Exposition& scrape) {
  Target& t = target(job);
  t.check_order(at);
  const size_t k = t.times.size();
  t.times.push_back(at);
  Labels renamed;
  for (const MetricFamily& family : scrape.families) {
    for (const MetricSample& sample : family.samples) {
      if (!of_interest(family.name, sample.name)) continue;
      const Labels* labels = &sample.labels;
      if (!label_value(sample.labels, "job").empty()) {
        // As Prometheus without honor_labels: the exposed job becomes exported_job.
        renamed = sample.labels;
        for (Label& l : renamed) {
          if (l.name != "job") continue;
          std::string name = "exported_job";
          while (!label_value(renamed, name).empty()) name = "exported_" + name;
          l.name = name;
        }
        std::sort(renamed.begin(), renamed.end(),
                  [](const Label& a, const Label& b) { return a.name < b.name; });
        labels = &renamed;
      }
      series_key(sample.name, *labels, &t.key);
      auto it = t.index.find(std::string_view(t.key));
      if (it == t.index.end()) {
        if (t.series.size() >= options_.max_series_per_target) {
          ++t.dropped;
          continue;
        }
        it = t.index.emplace(t.key, t.series.size()).first;
        auto name_it = t.by_name.find(std::string_view(sample.name));
        if (name_it == t.by_name.end())
          name_it = t.by_name.emplace(sample.name, std::vector<size_t>{}).first;
        name_it->second.push_back(t.series.size());
        Series& s = t.series.emplace_back();
        s.name = sample.name;
        s.labels = *labels;
        s.first = k;
      }
      Series& s = t.series[it->second];
      if (s.first + s.values.size() > k) continue;  // a repeated series in one scrape
      s.values.resize(k - s.first, kAbsent);
      s.values.push_back(sample.value);
    }
  }
}

void ScrapeStore::add_failed_scrape(std::string_view job, Duration at, std::string error) {
  Target& t = target(job);
  t.check_order(at);
  t.failures.push_back({at, std::move(error)});
}

std::optional<std::string> ScrapeStore::add_scrape_text(std::string_view job, Duration at,
                                                        std::string_view body) {
  Exposition e;
  try {
    e = parser_.parse(body);
  } catch (const MetricsTextError& error) {
    std::string message = std::string("metrics text: ") + error.what();
    add_failed_scrape(job, at, message);
    return message;
  }
  add_scrape(job, at, e);
  return std::nullopt;
}

WindowValue ScrapeStore::increase(const SeriesSelector& selector, TimeWindow window) const {
  WindowValue out;
  double sum = 0;
  const Target* last = nullptr;
  for_each_series(targets_, selector.metric, selector.matchers,
                  [&](const Target& t, const Series& s) {
                    const CounterSpan span = counter_span(t.times, window);
                    const std::optional<double> inc = series_increase(s, span);
                    if (!inc) return;
                    sum += *inc;
                    ++out.series;
                    if (&t != last) {
                      out.scrapes += span.hi - span.lo + (span.baseline ? 1 : 0);
                      last = &t;
                    }
                  });
  if (out.series > 0) out.value = sum;
  note_failures(targets_, selector.matchers, window, out);
  return out;
}

WindowValue ScrapeStore::rate(const SeriesSelector& selector, TimeWindow window) const {
  WindowValue out = increase(selector, window);
  out.value = window.seconds() > 0 ? out.value / window.seconds() : kNaN;
  return out;
}

std::vector<std::pair<Duration, double>> ScrapeStore::state_timeline(const SeriesSelector& selector,
                                                                     TimeWindow window,
                                                                     WindowValue* failures) const {
  std::map<Duration, double> at;
  // Every successful scrape of a selected target is a point, 0 until a series says otherwise.
  for (const auto& t : targets_) {
    bool job_ok = true;
    for (const LabelMatcher& m : selector.matchers)
      if (m.name() == "job" && !job_selected(m, t->job)) job_ok = false;
    if (!job_ok) continue;
    const auto lo = std::lower_bound(t->times.begin(), t->times.end(), window.start);
    const auto hi = std::upper_bound(lo, t->times.end(), window.end);
    for (auto it = lo; it != hi; ++it) at.try_emplace(*it, 0.0);
  }
  for_each_series(targets_, selector.metric, selector.matchers,
                  [&](const Target& t, const Series& s) {
                    const auto lo = std::lower_bound(t.times.begin(), t.times.end(), window.start);
                    const auto hi = std::upper_bound(lo, t.times.end(), window.end);
                    for (auto it = lo; it != hi; ++it) {
                      const double v = s.at(static_cast<size_t>(it - t.times.begin()));
                      if (!is_absent(v) && !std::isnan(v)) at[*it] += v;
                    }
                  });
  if (failures) note_failures(targets_, selector.matchers, window, *failures);
  return {at.begin(), at.end()};
}

WindowValue ScrapeStore::gauge(GaugeFunction function, const SeriesSelector& selector,
                               TimeWindow window, SeriesCombine combine) const {
  struct Combined {
    double sum = 0, max = -std::numeric_limits<double>::infinity(),
           min = std::numeric_limits<double>::infinity();
    size_t n = 0;
  };
  std::map<Duration, Combined> by_time;  // targets may be scraped at different times
  WindowValue out;
  const Target* last = nullptr;
  for_each_series(targets_, selector.metric, selector.matchers,
                  [&](const Target& t, const Series& s) {
                    const auto lo = std::lower_bound(t.times.begin(), t.times.end(), window.start);
                    const auto hi = std::lower_bound(lo, t.times.end(), window.end);
                    bool any = false;
                    for (auto it = lo; it != hi; ++it) {
                      const double v = s.at(static_cast<size_t>(it - t.times.begin()));
                      if (std::isnan(v)) continue;
                      Combined& c = by_time[*it];
                      c.sum += v;
                      c.max = std::max(c.max, v);
                      c.min = std::min(c.min, v);
                      ++c.n;
                      any = true;
                    }
                    if (!any) return;
                    ++out.series;
                    if (&t != last) {
                      out.scrapes += static_cast<size_t>(hi - lo);
                      last = &t;
                    }
                  });
  note_failures(targets_, selector.matchers, window, out);
  if (by_time.empty()) return out;
  double max = -std::numeric_limits<double>::infinity();
  double min = std::numeric_limits<double>::infinity();
  double sum = 0;
  double last_value = kNaN;
  for (const auto& [at, c] : by_time) {
    double v = c.sum;
    switch (combine) {
      case SeriesCombine::kSum:
        break;
      case SeriesCombine::kMax:
        v = c.max;
        break;
      case SeriesCombine::kMin:
        v = c.min;
        break;
      case SeriesCombine::kAvg:
        v = c.sum / static_cast<double>(c.n);
        break;
    }
    max = std::max(max, v);
    min = std::min(min, v);
    sum += v;
    last_value = v;
  }
  switch (function) {
    case GaugeFunction::kMax:
      out.value = max;
      break;
    case GaugeFunction::kMin:
      out.value = min;
      break;
    case GaugeFunction::kAvg:
      out.value = sum / static_cast<double>(by_time.size());
      break;
    case GaugeFunction::kLast:
      out.value = last_value;
      break;
  }
  return out;
}

QuantileValue ScrapeStore::histogram_quantile(double q, const SeriesSelector& selector,
                                              TimeWindow window) const {
  const std::string name = std::string(strip_suffix(selector.metric, "_bucket")) + "_bucket";
  std::map<double, double> by_le;  // sum by (le)
  QuantileValue out;
  const Target* last = nullptr;
  for_each_series(targets_, name, selector.matchers, [&](const Target& t, const Series& s) {
    const std::optional<double> le = parse_exposition_float(label_value(s.labels, "le"));
    if (!le || std::isnan(*le)) return;  // as Prometheus: no or malformed le, skipped
    const CounterSpan span = counter_span(t.times, window);
    const std::optional<double> inc = series_increase(s, span);
    if (!inc) return;
    by_le[*le] += *inc;
    ++out.series;
    if (&t != last) {
      out.scrapes += span.hi - span.lo + (span.baseline ? 1 : 0);
      last = &t;
    }
  });
  note_failures(targets_, selector.matchers, window, out);
  if (by_le.empty()) return out;
  std::vector<HistogramBucket> buckets;
  buckets.reserve(by_le.size());
  double running_max = 0;
  for (const auto& [le, count] : by_le) {
    buckets.push_back({le, count});
    if (count > running_max) running_max = count;
  }
  out.observations = std::isinf(by_le.rbegin()->first) ? running_max : 0;
  out.value = observe::histogram_quantile(q, std::move(buckets), &out.forced_monotonic);
  return out;
}

WindowValue ScrapeStore::histogram_count_increase(const SeriesSelector& selector,
                                                  TimeWindow window) const {
  SeriesSelector count = selector;
  count.metric = std::string(strip_suffix(selector.metric, "_count")) + "_count";
  return increase(count, window);
}

std::vector<std::string> ScrapeStore::jobs() const {
  std::vector<std::string> out;
  for (const auto& t : targets_) out.push_back(t->job);
  return out;
}

size_t ScrapeStore::scrape_count(std::string_view job) const {
  const Target* t = find_target(job);
  return t ? t->times.size() : 0;
}

size_t ScrapeStore::series_count() const {
  size_t n = 0;
  for (const auto& t : targets_) n += t->series.size();
  return n;
}

size_t ScrapeStore::dropped_samples() const {
  size_t n = 0;
  for (const auto& t : targets_) n += t->dropped;
  return n;
}

const std::vector<ScrapeFailure>& ScrapeStore::failures(std::string_view job) const {
  static const std::vector<ScrapeFailure> kNone;
  const Target* t = find_target(job);
  return t ? t->failures : kNone;
}

size_t ScrapeStore::memory_bytes() const {
  constexpr size_t kNode = 48;  // per hash node: next pointer, cached hash, allocator slack
  size_t bytes = targets_.capacity() * sizeof(void*);
  for (const auto& t : targets_) {
    bytes += sizeof(Target) + t->times.capacity() * sizeof(Duration);
    for (const ScrapeFailure& f : t->failures) bytes += sizeof(f) + string_bytes(f.error);
    bytes += t->series.capacity() * sizeof(Series);
    for (const Series& s : t->series) {
      bytes += s.values.capacity() * sizeof(double) + string_bytes(s.name);
      bytes += s.labels.capacity() * sizeof(Label);
      for (const Label& l : s.labels) bytes += string_bytes(l.name) + string_bytes(l.value);
    }
    bytes += t->index.bucket_count() * sizeof(void*);
    for (const auto& [key, i] : t->index) bytes += kNode + sizeof(std::string) + string_bytes(key);
    bytes += t->by_name.bucket_count() * sizeof(void*);
    for (const auto& [key, v] : t->by_name) {
      bytes += kNode + sizeof(std::string) + string_bytes(key) + v.capacity() * sizeof(size_t);
    }
  }
  return bytes;
}

}  // namespace faultline::observe
