#include "judge/value_format.h"

#include <cmath>
#include <cstdio>

namespace faultline::judge {

namespace {

// Up to 4 significant digits, at most 3 decimals, trailing zeros dropped.
std::string number_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  const double a = std::fabs(v);
  const int decimals = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
  char buf[64];
  if (a >= 1e15) {
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

}  // namespace

std::string format_value(double value, dsl::ValueType type) {
  if (!std::isfinite(value)) return number_text(value);
  switch (type) {
    case dsl::ValueType::kDuration: {
      const double a = std::fabs(value);
      if (a == 0) return "0s";
      if (a < 1e-3) return number_text(value * 1e6) + "us";
      if (a < 1) return number_text(value * 1e3) + "ms";
      return number_text(value) + "s";
    }
    case dsl::ValueType::kFraction:
      return number_text(value * 100) + "%";
    case dsl::ValueType::kRate:
      return number_text(value) + "/s";
    case dsl::ValueType::kNumber:
      return number_text(value);
  }
  return number_text(value);
}

std::string format_change(double fraction) {
  const std::string s = number_text(fraction * 100) + "%";
  return fraction > 0 ? "+" + s : s;
}

std::string format_window(const TimeWindow& window) {
  return window.label + " [" + format_duration(window.start) + ".." + format_duration(window.end) +
         ")";
}

}  // namespace faultline::judge
