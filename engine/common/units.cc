#include "common/units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace faultline {

namespace {

// Parses "123" or "123.456" at the start of text into a value scaled by 10^9 (nano-units),
// so "1.5" -> 1'500'000'000. Advances text. Returns nullopt on malformed input or overflow.
std::optional<int64_t> parse_decimal_nano(std::string_view& text) {
  size_t i = 0;
  int64_t whole = 0;
  bool any_digit = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (whole > (INT64_MAX / 10 - 9) / 1'000'000'000) return std::nullopt;
    whole = whole * 10 + (text[i] - '0');
    ++i;
    any_digit = true;
  }
  int64_t frac_nano = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int64_t scale = 100'000'000;
    bool frac_digit = false;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      // Digits beyond nano precision must be zero, or the value is not exact.
      if (scale == 0) {
        if (text[i] != '0') return std::nullopt;
      } else {
        frac_nano += (text[i] - '0') * scale;
        scale /= 10;
      }
      ++i;
      frac_digit = true;
    }
    if (!frac_digit) return std::nullopt;
  }
  if (!any_digit) return std::nullopt;
  text.remove_prefix(i);
  return whole * 1'000'000'000 + frac_nano;
}

// Longer than any run or timeout could sensibly be; keeps every accepted value exactly
// representable in every unit format_duration may choose.
constexpr int64_t kMaxDurationUs = 10'000LL * 3'600'000'000LL;

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text == "0") return Duration{0};
  if (text.empty()) return std::nullopt;
  int64_t total_us = 0;
  while (!text.empty()) {
    auto nano = parse_decimal_nano(text);
    if (!nano) return std::nullopt;
    int64_t us_per_unit;
    if (text.starts_with("us")) {
      us_per_unit = 1;
      text.remove_prefix(2);
    } else if (text.starts_with("ms")) {
      us_per_unit = 1'000;
      text.remove_prefix(2);
    } else if (text.starts_with("s")) {
      us_per_unit = 1'000'000;
      text.remove_prefix(1);
    } else if (text.starts_with("m")) {
      us_per_unit = 60'000'000;
      text.remove_prefix(1);
    } else if (text.starts_with("h")) {
      us_per_unit = 3'600'000'000;
      text.remove_prefix(1);
    } else {
      return std::nullopt;
    }
    // value_us = nano * us_per_unit / 1e9, exact or rejected.
    const __int128 scaled = static_cast<__int128>(*nano) * us_per_unit;
    if (scaled % 1'000'000'000 != 0) return std::nullopt;
    const __int128 us = scaled / 1'000'000'000;
    if (us > INT64_MAX - total_us) return std::nullopt;
    total_us += static_cast<int64_t>(us);
    if (total_us > kMaxDurationUs) return std::nullopt;
  }
  return Duration{total_us};
}

std::string format_duration(Duration d) {
  int64_t us = d.count();
  if (us == 0) return "0s";
  std::string out;
  if (us < 0) {
    out = "-";
    us = -us;
  }
  auto decimal = [](int64_t value, int64_t unit, const char* suffix) {
    std::string s = std::to_string(value / unit);
    int64_t rem = value % unit;
    if (rem != 0) {
      std::string frac;
      for (int64_t scale = unit / 10; scale > 0 && rem != 0; scale /= 10) {
        frac.push_back(static_cast<char>('0' + rem / scale));
        rem %= scale;
      }
      s += "." + frac;
    }
    return s + suffix;
  };
  if (us < 1'000) return out + std::to_string(us) + "us";
  if (us < 1'000'000) return out + decimal(us, 1'000, "ms");
  if (us < 60'000'000 || us % 1'000'000 != 0) return out + decimal(us, 1'000'000, "s");
  int64_t s = us / 1'000'000;
  const int64_t h = s / 3600;
  const int64_t m = (s % 3600) / 60;
  s %= 60;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s) out += std::to_string(s) + "s";
  return out;
}

std::optional<double> parse_rate(std::string_view text) {
  std::string_view rest = text;
  auto nano = parse_decimal_nano(rest);
  if (!nano) return std::nullopt;
  double per = 1.0;
  if (rest.empty() || rest == "/s") {
    per = 1.0;
  } else if (rest == "/m") {
    per = 60.0;
  } else if (rest == "/h") {
    per = 3600.0;
  } else {
    return std::nullopt;
  }
  return static_cast<double>(*nano) / 1e9 / per;
}

std::optional<uint64_t> parse_bytes(std::string_view text) {
  std::string_view rest = text;
  auto nano = parse_decimal_nano(rest);
  if (!nano) return std::nullopt;
  uint64_t mult = 1;
  if (rest.empty() || rest == "B") {
    mult = 1;
  } else if (rest == "KB" || rest == "KiB" || rest == "k") {
    mult = 1ULL << 10;
  } else if (rest == "MB" || rest == "MiB") {
    mult = 1ULL << 20;
  } else if (rest == "GB" || rest == "GiB") {
    mult = 1ULL << 30;
  } else {
    return std::nullopt;
  }
  const __int128 v = static_cast<__int128>(*nano) * mult;
  if (v % 1'000'000'000 != 0) return std::nullopt;
  return static_cast<uint64_t>(v / 1'000'000'000);
}

}  // namespace faultline
