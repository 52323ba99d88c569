// Fuzzes the Prometheus text parser, which reads whatever a scraped service sends. Beyond
// "no crash, no leak, no hang" it checks the Exposition invariants (metrics_text.h) and that a
// parse result written back out in canonical form parses to the same result. Every parsed
// scrape is also fed through ScrapeStore queries, and every value token through the float
// parser's round trip.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "observe/metrics_text_parser.h"
#include "observe/scrape_store.h"

namespace {

using faultline::observe::Exposition;
using faultline::observe::MetricFamily;
using faultline::observe::MetricSample;

void check(bool ok) {
  if (!ok) std::abort();
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string escaped(std::string_view s, bool quotes) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string canonical(const Exposition& e) {
  std::string out;
  for (const MetricFamily& f : e.families) {
    if (f.has_help_line) out += "# HELP " + f.name + " " + escaped(f.help, false) + "\n";
    if (f.has_type_line) {
      out += "# TYPE " + f.name + " " + std::string(metric_type_name(f.type)) + "\n";
    }
    for (const MetricSample& s : f.samples) {
      out += s.name + "{";
      for (const auto& l : s.labels) out += l.name + "=\"" + escaped(l.value, true) + "\",";
      out += "} " + number(s.value);
      if (s.timestamp_ms) out += " " + std::to_string(*s.timestamp_ms);
      out += "\n";
    }
  }
  return out;
}

bool same_value(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0;
}

void check_invariants(const Exposition& e) {
  size_t samples = 0;
  for (const MetricFamily& f : e.families) {
    for (const MetricSample& s : f.samples) {
      ++samples;
      for (size_t i = 0; i < s.labels.size(); ++i) {
        check(!s.labels[i].value.empty());
        check(s.labels[i].name != "__name__");
        if (i > 0) check(s.labels[i - 1].name < s.labels[i].name);
      }
    }
  }
  check(samples == e.sample_count);
}

void check_same(const Exposition& a, const Exposition& b) {
  check(a.families.size() == b.families.size());
  check(b.duplicate_samples == 0);
  for (size_t i = 0; i < a.families.size(); ++i) {
    const MetricFamily& x = a.families[i];
    const MetricFamily& y = b.families[i];
    check(x.name == y.name && x.type == y.type && x.has_type_line == y.has_type_line);
    check(x.help == y.help && x.has_help_line == y.has_help_line);
    check(x.samples.size() == y.samples.size());
    for (size_t j = 0; j < x.samples.size(); ++j) {
      check(x.samples[j].name == y.samples[j].name);
      check(x.samples[j].labels == y.samples[j].labels);
      check(same_value(x.samples[j].value, y.samples[j].value));
      check(x.samples[j].timestamp_ms == y.samples[j].timestamp_ms);
    }
  }
}

void exercise_store(const Exposition& e) {
  using namespace faultline::observe;
  if (e.families.empty()) return;
  ScrapeStore store;
  store.add_scrape("job", faultline::Duration{0}, e);
  store.add_scrape("job", faultline::Duration{1'000'000}, e);
  const TimeWindow w{faultline::Duration{0}, faultline::Duration{2'000'000}};
  for (const MetricFamily& f : e.families) {
    SeriesSelector sel{f.name, {}};
    (void)store.increase(sel, w);
    (void)store.gauge(GaugeFunction::kMax, sel, w);
    (void)store.histogram_quantile(0.99, sel, w);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto v = faultline::observe::parse_exposition_float(text)) {
    const auto again = faultline::observe::parse_exposition_float(number(*v));
    check(again && same_value(*again, *v));
  }
  for (bool crlf : {true, false}) {
    faultline::observe::MetricsTextParser parser(
        faultline::observe::MetricsTextParser::Options{.accept_crlf = crlf});
    Exposition e;
    try {
      e = parser.parse(text);
    } catch (const faultline::observe::MetricsTextError& error) {
      check(error.line() >= 1 && error.column() >= 1);
      continue;
    }
    check_invariants(e);
    // The canonical form never needs CRLF tolerance, so it is read back strictly.
    faultline::observe::MetricsTextParser strict(
        faultline::observe::MetricsTextParser::Options{.accept_crlf = false});
    check_same(e, strict.parse(canonical(e)));
    if (crlf) exercise_store(e);
  }
  return 0;
}
