#include "observe/metrics_text_parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "observe/utf8.h"

namespace faultline::observe {

namespace {

// Character classes of the format, one table lookup per byte in the hot loops.
enum CharClass : uint8_t {
  kDigit = 1,
  kLabelNameStart = 2,   // [a-zA-Z_]
  kMetricNameStart = 4,  // [a-zA-Z_:]
  kMetricNameChar = 8,   // [a-zA-Z0-9_:]
  kLabelNameChar = 16,   // [a-zA-Z0-9_]
  kBlank = 32,           // space, tab
  kValueStop = 64,       // ends a value token: space, tab, '\n', '{', '\r' (checked further)
  kQuotedStop = 128,     // needs a look inside a label value: '"', '\\', '\n', bytes >= 0x80
};

constexpr std::array<uint8_t, 256> make_char_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    const bool digit = c >= '0' && c <= '9';
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (digit) v |= kDigit;
    if (letter) v |= kLabelNameStart | kMetricNameStart | kMetricNameChar | kLabelNameChar;
    if (c == ':') v |= kMetricNameStart | kMetricNameChar;
    if (digit) v |= kMetricNameChar | kLabelNameChar;
    if (c == ' ' || c == '\t') v |= kBlank | kValueStop;
    if (c == '\n' || c == '{' || c == '\r') v |= kValueStop;
    if (c == '"' || c == '\\' || c == '\n' || c >= 0x80) v |= kQuotedStop;
    t[static_cast<size_t>(c)] = v;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kCharClasses = make_char_classes();

bool has_class(char c, uint8_t cls) {
  return (kCharClasses[static_cast<unsigned char>(c)] & cls) != 0;
}
bool is_digit(char c) {
  return has_class(c, kDigit);
}
bool is_label_name_start(char c) {
  return has_class(c, kLabelNameStart);
}
bool is_metric_name_start(char c) {
  return has_class(c, kMetricNameStart);
}
bool is_blank(char c) {
  return has_class(c, kBlank);
}

bool equals_ignore_case(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// `\\` and `\n` (and `\"` in label values) are unescaped; other pairs stay as written.
void unescape_into(std::string_view raw, bool quotes, std::string* out_string) {
  std::string& out = *out_string;
  out.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      const char e = raw[i + 1];
      if (e == '\\' || (quotes && e == '"')) {
        out += e;
        ++i;
        continue;
      }
      if (e == 'n') {
        out += '\n';
        ++i;
        continue;
      }
    }
    out += c;
  }
}

std::optional<MetricType> metric_type_from_name(std::string_view s) {
  for (MetricType t : {MetricType::kCounter, MetricType::kGauge, MetricType::kHistogram,
                       MetricType::kSummary, MetricType::kUntyped}) {
    if (metric_type_name(t) == s) return t;
  }
  return std::nullopt;
}

// A 64-bit hash of a sample's labels for the duplicate check (within one sample name's table).
// Equal hashes are compared against the kept sample, so the hash only has to spread series
// well, not be collision-free; it mixes 8 bytes at a time and each piece's length, so that
// ("ab","c") and ("a","bc") differ.
class SeriesHash {
 public:
  void add(std::string_view piece) {
    const char* p = piece.data();
    size_t n = piece.size();
    for (; n >= 8; p += 8, n -= 8) mix(load(p, 8));
    mix(load(p, n) ^ (uint64_t{piece.size()} << 56));
  }
  uint64_t value() const {
    uint64_t h = h_;  // murmur3's finalizer: every bit of h_ reaches the low bits
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
  }

 private:
  static uint64_t load(const char* p, size_t n) {
    uint64_t v = 0;
    if (n > 0) std::memcpy(&v, p, n);  // (memcpy from a null pointer is undefined, even for 0)
    return v;
  }
  void mix(uint64_t v) {
    h_ = (h_ ^ v) * 0x9e3779b97f4a7c15ULL;
    h_ ^= h_ >> 29;
  }
  uint64_t h_ = 0;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A position in the text with its line, for error messages about an earlier place (an
// unterminated quote is reported where it opened).
struct Mark {
  size_t pos;
  int line;
  size_t line_start;
};

// One parse of one scrape: the cursor, the families built so far, and the error reporting.
class Parse {
  using LabelView = MetricsTextScratch::LabelView;
  using Series = MetricsTextScratch::Series;
  using SeriesSlot = MetricsTextScratch::SeriesSlot;
  using NameTable = MetricsTextScratch::NameTable;

 public:
  Parse(std::string_view text, bool accept_crlf, MetricsTextScratch& scratch)
      : text_(text),
        accept_crlf_(accept_crlf),
        labels_(scratch.labels),
        unescaped_(scratch.unescaped),
        series_(scratch.series),
        tables_(scratch.tables),
        table_of_name_(scratch.table_of_name),
        spare_slots_(scratch.spare_slots) {
    series_.clear();
    table_of_name_.clear();
  }

  Exposition run() {
    while (pos_ < text_.size()) {
      skip_blanks();
      if (at_line_end()) {
        consume_line_end();
      } else if (text_[pos_] == '#') {
        hash_line();
      } else {
        sample_line();
      }
    }
    return std::move(out_);
  }

 private:
  Mark mark() const { return {pos_, line_, line_start_}; }

  [[noreturn]] void fail(const Mark& at, const std::string& expected) const {
    std::string got;
    if (at.pos >= text_.size()) {
      got = "end of input";
    } else if (text_[at.pos] == '\n' || (text_[at.pos] == '\r' && accept_crlf_)) {
      got = "end of line";
    } else {
      const unsigned char c = static_cast<unsigned char>(text_[at.pos]);
      if (c >= 0x20 && c < 0x7f) {
        got = std::string("'") + static_cast<char>(c) + "'";
      } else {
        static const char* kHex = "0123456789abcdef";
        got = std::string("byte 0x") + kHex[c >> 4] + kHex[c & 15];
      }
    }
    throw MetricsTextError(at.line, static_cast<int>(at.pos - at.line_start + 1),
                           expected + ", got " + got);
  }
  [[noreturn]] void fail_here(const std::string& expected) const { fail(mark(), expected); }
  [[noreturn]] void fail_plain(const Mark& at, const std::string& message) const {
    throw MetricsTextError(at.line, static_cast<int>(at.pos - at.line_start + 1), message);
  }

  void skip_blanks() {
    while (pos_ < text_.size() && is_blank(text_[pos_])) ++pos_;
  }

  // At '\n', at the end of input, or (with accept_crlf) at a '\r' that ends the line.
  bool at_line_end() const {
    if (pos_ >= text_.size() || text_[pos_] == '\n') return true;
    return accept_crlf_ && text_[pos_] == '\r' &&
           (pos_ + 1 == text_.size() || text_[pos_ + 1] == '\n');
  }

  // REQUIRES: at_line_end().
  void consume_line_end() {
    if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size()) ++pos_;  // the '\n'
    ++line_;
    line_start_ = pos_;
  }

  // The longest run of bytes of class `cls` at the cursor; moves past it.
  std::string_view read_while(uint8_t cls) {
    const size_t start = pos_;
    while (pos_ < text_.size() && has_class(text_[pos_], cls)) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // The rest of the current line, without its line end; moves to the next line.
  std::string_view rest_of_line() {
    size_t end = text_.find('\n', pos_);
    if (end == std::string_view::npos) end = text_.size();
    std::string_view rest = text_.substr(pos_, end - pos_);
    if (accept_crlf_ && !rest.empty() && rest.back() == '\r') rest.remove_suffix(1);
    pos_ = end;
    if (pos_ < text_.size()) ++pos_;
    ++line_;
    line_start_ = pos_;
    return rest;
  }

  void hash_line() {
    ++pos_;  // '#'
    if (pos_ < text_.size() && is_blank(text_[pos_])) {
      skip_blanks();
      const std::string_view rest = text_.substr(pos_);
      for (std::string_view keyword : {std::string_view("HELP"), std::string_view("TYPE")}) {
        if (rest.size() > keyword.size() && rest.substr(0, keyword.size()) == keyword &&
            is_blank(rest[keyword.size()])) {
          pos_ += keyword.size();
          skip_blanks();
          metadata_line(keyword == "HELP");
          return;
        }
      }
    }
    rest_of_line();  // a comment
  }

  void metadata_line(bool help) {
    const char* what = help ? "HELP" : "TYPE";
    const Mark name_mark = mark();
    const std::string_view name = read_while(kMetricNameChar);
    if (name.empty() || !is_metric_name_start(name[0])) {
      pos_ = name_mark.pos;
      fail_here(std::string("expected a metric name after # ") + what);
    }
    const Mark text_mark = mark();
    std::string_view rest = rest_of_line();
    std::string_view body;
    if (rest.find_first_not_of(" \t") != std::string_view::npos) {
      if (!is_blank(rest[0])) {
        fail(text_mark, std::string("expected a space after the metric name in # ") + what);
      }
      body = rest.substr(1);
    }
    if (help) {
      if (!is_valid_utf8(body)) fail_plain(text_mark, "HELP text is not valid UTF-8");
      MetricFamily& f = family_named(name);
      unescape_into(body, /*quotes=*/false, &f.help);
      f.has_help_line = true;
      return;
    }
    const std::optional<MetricType> type = metric_type_from_name(body);
    if (!type) {
      fail_plain(text_mark, "unknown metric type " + quoted(body) +
                                "; expected counter, gauge, histogram, summary or untyped");
    }
    set_type(name, *type, name_mark);
  }

  void set_type(std::string_view name, MetricType type, const Mark& at) {
    const std::string who = "TYPE line for " + std::string(name);
    if (auto it = family_index_.find(name); it != family_index_.end()) {
      MetricFamily& f = out_.families[it->second];
      if (f.has_type_line) {
        if (f.type != type) {
          fail_plain(at, "second " + who + " says " + std::string(metric_type_name(type)) +
                             ", the first said " + std::string(metric_type_name(f.type)));
        }
        return;
      }
      if (!f.samples.empty()) fail_plain(at, who + " after its samples");
    }
    if (type == MetricType::kHistogram || type == MetricType::kSummary) {
      for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
        const std::string child = std::string(name) + std::string(suffix);
        // Only a family the samples implied (no TYPE and no HELP line of its own) is
        // ambiguous: one declared by HELP is a family in its own right, and its samples stay
        // in it whatever comes later, as they would had the TYPE line come first.
        if (auto it = family_index_.find(child); it != family_index_.end() &&
                                                 !out_.families[it->second].has_type_line &&
                                                 !out_.families[it->second].has_help_line &&
                                                 !out_.families[it->second].samples.empty()) {
          fail_plain(at, who + " after its samples (" + child + ")");
        }
      }
    }
    MetricFamily& f = family_named(name);
    f.type = type;
    f.has_type_line = true;
  }

  MetricFamily& family_named(std::string_view name) {
    if (auto it = family_index_.find(name); it != family_index_.end()) {
      return out_.families[it->second];
    }
    family_index_.emplace(std::string(name), out_.families.size());
    out_.families.emplace_back().name = std::string(name);
    last_sample_family_ = static_cast<size_t>(-1);  // the vector may have moved
    return out_.families.back();
  }

  // The family a sample of this name belongs to (see the header: exact name first, then the
  // histogram/summary suffixes, else a new untyped family).
  size_t family_for_sample(std::string_view name) {
    if (auto it = family_index_.find(name); it != family_index_.end()) return it->second;
    auto parent = [&](std::string_view suffix, bool summary_too) -> std::optional<size_t> {
      if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) {
        return std::nullopt;
      }
      auto it = family_index_.find(name.substr(0, name.size() - suffix.size()));
      if (it == family_index_.end()) return std::nullopt;
      const MetricType t = out_.families[it->second].type;
      if (t == MetricType::kHistogram || (summary_too && t == MetricType::kSummary)) {
        return it->second;
      }
      return std::nullopt;
    };
    if (auto p = parent("_bucket", false)) return *p;
    if (auto p = parent("_sum", true)) return *p;
    if (auto p = parent("_count", true)) return *p;
    family_named(name);
    return out_.families.size() - 1;
  }

  void sample_line() {
    const Mark start = mark();
    if (!is_metric_name_start(text_[pos_])) fail_here("expected a metric name, '#' or end of line");
    const std::string_view name = read_while(kMetricNameChar);
    skip_blanks();
    labels_.clear();
    if (pos_ < text_.size() && text_[pos_] == '{') {
      ++pos_;
      label_set();
      normalize_labels(start);
    }
    SeriesHash h;  // of the labels: the name has a table of its own
    for (const LabelView& l : labels_) {
      h.add(l.name);
      h.add(l.value);
    }
    const uint64_t hash = h.value();
    skip_blanks();
    const Mark value_mark = mark();
    const size_t value_start = pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (has_class(c, kValueStop) && (c != '\r' || at_line_end())) break;
      ++pos_;
    }
    const std::string_view value_text = text_.substr(value_start, pos_ - value_start);
    if (value_text.empty()) fail(value_mark, "expected a value after the metric");
    const std::optional<double> value = parse_exposition_float(value_text);
    if (!value) {
      fail_plain(value_mark, "invalid value " + quoted(value_text) +
                                 "; expected a float such as 12, -0.5, 1e-3, NaN or +Inf");
    }
    std::optional<int64_t> timestamp;
    skip_blanks();
    if (!at_line_end()) {
      const Mark ts_mark = mark();
      const std::string_view digits = read_while(kDigit);
      if (digits.empty()) fail(ts_mark, "expected a timestamp in milliseconds or end of line");
      int64_t ts = 0;
      const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), ts);
      if (r.ec != std::errc())
        fail_plain(ts_mark, "timestamp " + std::string(digits) + " overflows int64");
      timestamp = ts;
      skip_blanks();
      if (!at_line_end()) fail_here("expected end of line after the timestamp");
    }
    consume_line_end();
    add_sample(name, hash, *value, timestamp);
  }

  // Adds the sample (name, labels_) unless its series was seen in this scrape already.
  void add_sample(std::string_view name, uint64_t hash, double value,
                  std::optional<int64_t> timestamp) {
    NameTable& table = table_for(name);
    const size_t slot = find_series(table, hash, name);
    if (table.slots[slot].index != kEmptySlot) {
      ++out_.duplicate_samples;
      return;
    }
    if (last_sample_family_ == static_cast<size_t>(-1) || last_sample_name_ != name) {
      last_sample_family_ = family_for_sample(name);
      last_sample_name_ = name;
    }
    std::vector<MetricSample>& samples = out_.families[last_sample_family_].samples;
    table.slots[slot] = {static_cast<uint32_t>(hash >> 32), static_cast<uint32_t>(series_.size())};
    series_.push_back(
        {hash, static_cast<uint32_t>(last_sample_family_), static_cast<uint32_t>(samples.size())});
    MetricSample& s = samples.emplace_back();
    s.name.assign(name);
    s.labels.reserve(labels_.size());
    for (const LabelView& l : labels_) {
      Label& out = s.labels.emplace_back();
      out.name.assign(l.name);
      out.value.assign(l.value);
    }
    s.value = std::isnan(value) ? std::numeric_limits<double>::quiet_NaN() : value;
    s.timestamp_ms = timestamp;
    ++out_.sample_count;
    if (++table.used * 2 > table.slots.size()) grow(table);
  }

  // The table of the series named `name`, created empty on first use.
  NameTable& table_for(std::string_view name) {
    if (table_ != nullptr && table_name_ == name) return *table_;
    const auto [it, created] = table_of_name_.try_emplace(name, tables_in_use_);
    if (created) {
      if (tables_in_use_ == tables_.size()) tables_.emplace_back();
      NameTable& t = tables_[tables_in_use_++];
      t.slots.assign(kFirstTableSlots, SeriesSlot{0, kEmptySlot});
      t.used = 0;
    }
    table_ = &tables_[it->second];
    table_name_ = name;
    return *table_;
  }

  // The slot of the kept series (name, labels_), or the empty slot where it belongs. Equal
  // hashes are compared against the kept sample itself, so a collision never drops a sample.
  size_t find_series(const NameTable& table, uint64_t hash, std::string_view name) const {
    const size_t mask = table.slots.size() - 1;
    const auto tag = static_cast<uint32_t>(hash >> 32);
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      const SeriesSlot& slot = table.slots[i];
      if (slot.index == kEmptySlot) return i;
      if (slot.tag != tag) continue;
      const Series& kept = series_[slot.index];
      if (kept.hash == hash && same_series(out_.families[kept.family].samples[kept.sample], name))
        return i;
    }
  }

  bool same_series(const MetricSample& s, std::string_view name) const {
    if (s.name != name || s.labels.size() != labels_.size()) return false;
    for (size_t i = 0; i < labels_.size(); ++i) {
      if (s.labels[i].name != labels_[i].name || s.labels[i].value != labels_[i].value)
        return false;
    }
    return true;
  }

  void grow(NameTable& table) {
    std::vector<SeriesSlot>& slots = spare_slots_;
    slots.assign(table.slots.size() * 2, SeriesSlot{0, kEmptySlot});
    const size_t mask = slots.size() - 1;
    for (const SeriesSlot& slot : table.slots) {
      if (slot.index == kEmptySlot) continue;
      size_t i = series_[slot.index].hash & mask;
      while (slots[i].index != kEmptySlot) i = (i + 1) & mask;
      slots[i] = slot;
    }
    table.slots.swap(slots);  // the old slots are the next growth's buffer
  }

  // Inside `{...}`, after the brace. Fills labels_ with views; escaped values are unescaped
  // into unescaped_ and the views pointed there once every label is read (the strings may move
  // while unescaped_ grows).
  void label_set() {
    size_t unescaped = 0;
    while (true) {
      skip_blanks();
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        break;
      }
      if (pos_ >= text_.size() || !is_label_name_start(text_[pos_])) {
        fail_here("expected a label name or '}'");
      }
      const std::string_view lname = read_while(kLabelNameChar);
      skip_blanks();
      if (pos_ >= text_.size() || text_[pos_] != '=') {
        fail_here("expected '=' after label name " + quoted(lname));
      }
      ++pos_;
      skip_blanks();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        fail_here("expected '\"' to open the value of label " + quoted(lname));
      }
      bool escaped = false;
      const std::string_view raw = label_value_text(lname, &escaped);
      LabelView& l = labels_.emplace_back(LabelView{lname, raw, -1});
      if (escaped) {
        if (unescaped == unescaped_.size()) unescaped_.emplace_back();
        unescape_into(raw, /*quotes=*/true, &unescaped_[unescaped]);
        l.unescaped = static_cast<int>(unescaped++);
      }
      skip_blanks();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        break;
      }
      fail_here("expected ',' or '}' after the value of label " + quoted(lname));
    }
    if (unescaped == 0) return;
    for (LabelView& l : labels_) {
      if (l.unescaped >= 0) l.value = unescaped_[static_cast<size_t>(l.unescaped)];
    }
  }

  // At the opening quote; returns the raw value (escapes as written, *escaped says whether
  // there are any) and leaves the cursor after the closing quote.
  std::string_view label_value_text(std::string_view lname, bool* escaped) {
    const Mark open = mark();
    ++pos_;
    const size_t start = pos_;
    bool ascii = true;  // then the value is valid UTF-8 without a look
    while (true) {
      while (pos_ < text_.size() && !has_class(text_[pos_], kQuotedStop)) ++pos_;
      if (pos_ >= text_.size()) fail_plain(open, "unterminated value of label " + quoted(lname));
      const char c = text_[pos_];
      if (c == '"') break;
      if (c == '\\') {
        if (pos_ + 1 >= text_.size() || text_[pos_ + 1] == '\n') {
          fail_here("expected a character after '\\' in the value of label " + quoted(lname));
        }
        *escaped = true;
        if (static_cast<unsigned char>(text_[pos_ + 1]) >= 0x80) ascii = false;
        pos_ += 2;
        continue;
      }
      if (c == '\n') {  // a raw newline is part of the value (Prometheus accepts it)
        ++line_;
        line_start_ = pos_ + 1;
      } else {
        ascii = false;
      }
      ++pos_;
    }
    const std::string_view raw = text_.substr(start, pos_ - start);
    ++pos_;  // closing quote
    if (!ascii && !is_valid_utf8(raw))
      fail_plain(open, "value of label " + quoted(lname) + " is not valid UTF-8");
    return raw;
  }

  // Sorts labels_ by name, rejects repeated names, drops empty values (see metrics_text.h).
  void normalize_labels(const Mark& line_mark) {
    std::sort(labels_.begin(), labels_.end(),
              [](const LabelView& a, const LabelView& b) { return a.name < b.name; });
    bool any_empty = false;
    for (size_t i = 0; i < labels_.size(); ++i) {
      if (labels_[i].name == "__name__") {
        fail_plain(line_mark, "label __name__ repeats the metric name");
      }
      if (i > 0 && labels_[i].name == labels_[i - 1].name) {
        fail_plain(line_mark, "label " + quoted(labels_[i].name) + " appears twice");
      }
      any_empty |= labels_[i].value.empty();
    }
    if (any_empty) std::erase_if(labels_, [](const LabelView& l) { return l.value.empty(); });
  }

  static constexpr uint32_t kEmptySlot = MetricsTextScratch::kEmptySlot;
  static constexpr size_t kFirstTableSlots = 8;

  std::string_view text_;
  bool accept_crlf_;
  // Scratch of the parser (metrics_text_parser.h), reused from scrape to scrape.
  std::vector<LabelView>& labels_;  // the labels of the sample being read
  std::vector<std::string>& unescaped_;
  std::vector<Series>& series_;
  std::vector<NameTable>& tables_;
  std::unordered_map<std::string_view, uint32_t>& table_of_name_;
  size_t tables_in_use_ = 0;
  NameTable* table_ = nullptr;  // the table of table_name_ (a view into text_)
  std::string_view table_name_;
  std::vector<SeriesSlot>& spare_slots_;
  size_t pos_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;
  Exposition out_;
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> family_index_;
  size_t last_sample_family_ = static_cast<size_t>(-1);
  std::string_view last_sample_name_;  // into text_
};

// For a syntactically valid unsigned decimal with a non-zero digit: the power of ten of its
// first significant digit (123 -> 2, 0.05 -> -2, 1e-400 -> -400), saturating.
int64_t decimal_exponent(std::string_view s) {
  int64_t position = -1;  // of the first significant digit, relative to the point
  int64_t integer_digits = 0;
  bool seen_point = false;
  int64_t fraction_index = 0;
  size_t i = 0;
  for (; i < s.size() && s[i] != 'e' && s[i] != 'E'; ++i) {
    if (s[i] == '.') {
      seen_point = true;
      continue;
    }
    if (!seen_point) {
      ++integer_digits;
      if (s[i] != '0' && position == -1) position = integer_digits;  // 1-based from the left
    } else {
      ++fraction_index;
      if (s[i] != '0' && position == -1) position = -fraction_index;
    }
  }
  int64_t first = 0;
  if (position > 0) first = integer_digits - position;  // 123: first digit at 10^2
  if (position < 0) first = position;                   // 0.05: first digit at 10^-2
  int64_t exponent = 0;
  bool negative_exponent = false;
  if (i < s.size()) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative_exponent = s[i++] == '-';
    for (; i < s.size(); ++i) exponent = std::min<int64_t>(exponent * 10 + (s[i] - '0'), 1 << 30);
  }
  return first + (negative_exponent ? -exponent : exponent);
}

std::string error_text(int line, int column, const std::string& message) {
  return "line " + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

}  // namespace

MetricsTextError::MetricsTextError(int line, int column, const std::string& message)
    : std::runtime_error(error_text(line, column, message)),
      line_(line),
      column_(column),
      detail_(message) {}

Exposition MetricsTextParser::parse(std::string_view text) {
  Parse p(text, options_.accept_crlf, scratch_);
  return p.run();
}

std::optional<double> parse_exposition_float(std::string_view s) {
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    i = 1;
  }
  const std::string_view body = s.substr(i);
  if (equals_ignore_case(body, "inf") || equals_ignore_case(body, "infinity")) {
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  }
  if (i == 0 && equals_ignore_case(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
  // Go's decimal syntax: digits with an optional point (at least one digit overall), then an
  // optional exponent with at least one digit.
  size_t j = i;
  size_t digits = 0;
  while (j < s.size() && is_digit(s[j])) ++j, ++digits;
  if (j < s.size() && s[j] == '.') {
    ++j;
    while (j < s.size() && is_digit(s[j])) ++j, ++digits;
  }
  if (digits == 0) return std::nullopt;
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    ++j;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    size_t exponent_digits = 0;
    while (j < s.size() && is_digit(s[j])) ++j, ++exponent_digits;
    if (exponent_digits == 0) return std::nullopt;
  }
  if (j != s.size()) return std::nullopt;
  double v = 0;
  const auto r = std::from_chars(body.data(), body.data() + body.size(), v);
  if (r.ec == std::errc::result_out_of_range) {
    // Overflow is an error (Go returns ErrRange); an underflow below the smallest subnormal
    // is zero (Go returns 0 without error). Which one it is follows from the decimal exponent
    // of the first significant digit.
    if (decimal_exponent(body) >= 0) return std::nullopt;
    v = 0;
  } else if (r.ec != std::errc() || r.ptr != body.data() + body.size()) {
    return std::nullopt;
  }
  return negative ? -v : v;
}

}  // namespace faultline::observe
