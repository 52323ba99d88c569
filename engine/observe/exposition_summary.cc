#include "observe/exposition_summary.h"

#include <cmath>
#include <unordered_map>

#include "observe/histogram_quantile.h"
#include "observe/metrics_text_parser.h"

namespace faultline::observe {

namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

class SelectorReader {
 public:
  explicit SelectorReader(std::string_view text) : text_(text) {}

  SelectorText read() {
    SelectorText out;
    skip_blanks();
    out.metric = name(/*metric=*/true);
    skip_blanks();
    if (pos_ < text_.size() && text_[pos_] == '{') {
      ++pos_;
      for (;;) {
        skip_blanks();
        if (peek() == '}') break;
        std::string label = name(/*metric=*/false);
        if (label.empty()) fail("a label name");
        skip_blanks();
        const MatchOp match_op = op();
        skip_blanks();
        std::string value = quoted();
        try {
          out.matchers.emplace_back(std::move(label), match_op, std::move(value));
        } catch (const std::invalid_argument& e) {  // a regex that does not compile
          throw std::invalid_argument(std::string("at byte ") + std::to_string(pos_) + ": " +
                                      e.what());
        }
        skip_blanks();
        if (peek() == ',') {
          ++pos_;
          continue;
        }
        if (peek() != '}') fail("',' or '}'");
      }
      ++pos_;
      skip_blanks();
    }
    if (pos_ != text_.size()) fail(out.metric.empty() ? "a metric name or '{'" : "'{' or the end");
    if (out.metric.empty() && out.matchers.empty()) fail("a metric name or '{'");
    return out;
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_blanks() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  [[noreturn]] void fail(const std::string& expected) const {
    throw std::invalid_argument("at byte " + std::to_string(pos_ + 1) + ": expected " + expected);
  }
  std::string name(bool metric) {
    const size_t start = pos_;
    if (pos_ < text_.size() && is_name_start(text_[pos_]) && (metric || text_[pos_] != ':')) {
      ++pos_;
      while (pos_ < text_.size() && is_name_char(text_[pos_]) && (metric || text_[pos_] != ':'))
        ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }
  MatchOp op() {
    for (std::string_view candidate : {"=~", "!~", "!=", "="}) {
      if (text_.substr(pos_, candidate.size()) == candidate) {
        pos_ += candidate.size();
        return *parse_match_op(candidate);
      }
    }
    fail("one of = != =~ !~");
  }
  std::string quoted() {
    if (peek() != '"') fail("a double-quoted value");
    ++pos_;
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_++];
      if (c == '\\' && pos_ < text_.size()) {
        c = text_[pos_++];
        if (c == 'n') c = '\n';
      }
      out += c;
    }
    if (pos_ >= text_.size()) fail("a closing '\"'");
    ++pos_;
    return out;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

bool selector_matches(const SelectorText& s, const MetricFamily& family,
                      const MetricSample& sample) {
  if (!s.metric.empty() && s.metric != family.name && s.metric != sample.name) return false;
  return matches_all(s.matchers, sample.labels);
}

bool selected(const ExpositionFilter& filter, const MetricFamily& family,
              const MetricSample& sample) {
  if (filter.selectors.empty()) return true;
  for (const SelectorText& s : filter.selectors)
    if (selector_matches(s, family, sample)) return true;
  return false;
}

Labels without(const Labels& labels, std::string_view name) {
  Labels out;
  out.reserve(labels.size());
  for (const Label& l : labels)
    if (l.name != name) out.push_back(l);
  return out;
}

// NaN-skipping addition into a value that starts as NaN ("nothing yet").
void add_to(double* total, double v) {
  if (std::isnan(v)) return;
  *total = std::isnan(*total) ? v : *total + v;
}

void fill_quantiles(SeriesSummary* s, const std::vector<HistogramBucket>& buckets) {
  for (size_t i = 0; i < kInspectQuantiles.size(); ++i) {
    bool forced = false;
    s->quantiles[i] = histogram_quantile(kInspectQuantiles[i], buckets, &forced);
    s->forced_monotonic = s->forced_monotonic || forced;
  }
}

// Histograms and summaries: one series per label set without `drop`.
void summarize_grouped(const MetricFamily& family, const ExpositionFilter& filter,
                       FamilySummary* out) {
  const bool histogram = family.type == MetricType::kHistogram;
  const std::string_view drop = histogram ? "le" : "quantile";
  const std::string bucket_name = family.name + "_bucket";
  const std::string sum_name = family.name + "_sum";
  const std::string count_name = family.name + "_count";
  std::unordered_map<std::string, size_t> index;
  std::vector<std::vector<HistogramBucket>> buckets;  // parallel to out->series
  std::vector<HistogramBucket> all_buckets;
  std::string key;
  for (const MetricSample& sample : family.samples) {
    if (!selected(filter, family, sample)) continue;
    ++out->samples;
    Labels labels = without(sample.labels, drop);
    series_key("", labels, &key);
    auto [it, added] = index.try_emplace(key, out->series.size());
    if (added) {
      SeriesSummary s;
      s.name = family.name;
      s.labels = std::move(labels);
      out->series.push_back(std::move(s));
      buckets.emplace_back();
    }
    SeriesSummary& s = out->series[it->second];
    if (sample.name == sum_name) {
      s.sum = sample.value;
      add_to(&out->total.sum, sample.value);
    } else if (sample.name == count_name) {
      s.count = sample.value;
      add_to(&out->total.count, sample.value);
    } else if (histogram && sample.name == bucket_name) {
      const auto le = parse_exposition_float(label_value(sample.labels, "le"));
      if (!le || std::isnan(*le)) continue;
      buckets[it->second].push_back({*le, sample.value});
      all_buckets.push_back({*le, sample.value});
    }
  }
  if (!histogram) return;
  for (size_t i = 0; i < out->series.size(); ++i) fill_quantiles(&out->series[i], buckets[i]);
  fill_quantiles(&out->total, all_buckets);
}

}  // namespace

SelectorText parse_selector_text(std::string_view text) {
  return SelectorReader(text).read();
}

std::vector<FamilySummary> summarize_exposition(const Exposition& exposition,
                                                const ExpositionFilter& filter) {
  std::vector<FamilySummary> out;
  for (const MetricFamily& family : exposition.families) {
    if (!filter.family.empty() && filter.family != family.name) continue;
    FamilySummary f;
    f.name = family.name;
    f.type = family.type;
    f.help = family.help;
    f.total.name = family.name;
    if (family.type == MetricType::kHistogram || family.type == MetricType::kSummary) {
      summarize_grouped(family, filter, &f);
    } else {
      for (const MetricSample& sample : family.samples) {
        if (!selected(filter, family, sample)) continue;
        ++f.samples;
        SeriesSummary s;
        s.name = sample.name;
        s.labels = sample.labels;
        s.value = sample.value;
        add_to(&f.total.value, sample.value);
        f.series.push_back(std::move(s));
      }
    }
    if (f.samples > 0) out.push_back(std::move(f));
  }
  return out;
}

std::string series_text(std::string_view name, const Labels& labels) {
  std::string out(name);
  if (labels.empty()) return out;
  out += '{';
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ',';
    out += labels[i].name;
    out += "=\"";
    for (char c : labels[i].value) {
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace faultline::observe
