#include "judge/value_format.h"

#include <doctest/doctest.h>

#include <cmath>

using faultline::judge::format_change;
using faultline::judge::format_value;
using faultline::judge::format_window;
using faultline::judge::TimeWindow;
using VT = faultline::dsl::ValueType;
using namespace std::chrono_literals;

TEST_CASE("durations print in us, ms or s with about four significant digits") {
  CHECK(format_value(0.412, VT::kDuration) == "412ms");
  CHECK(format_value(0.4123456, VT::kDuration) == "412.3ms");
  CHECK(format_value(0.7996, VT::kDuration) == "799.6ms");
  CHECK(format_value(0.00025, VT::kDuration) == "250us");
  CHECK(format_value(0.0000125, VT::kDuration) == "12.5us");
  CHECK(format_value(1.25, VT::kDuration) == "1.25s");
  CHECK(format_value(12.5, VT::kDuration) == "12.5s");
  CHECK(format_value(1234.6, VT::kDuration) == "1235s");
  CHECK(format_value(0, VT::kDuration) == "0s");
  CHECK(format_value(-0.02, VT::kDuration) == "-20ms");
  // The unit changes exactly at 1 ms and 1 s; below 10, three decimals at most.
  CHECK(format_value(0.001, VT::kDuration) == "1ms");
  CHECK(format_value(0.000999, VT::kDuration) == "999us");
  CHECK(format_value(1, VT::kDuration) == "1s");
  CHECK(format_value(0.999, VT::kDuration) == "999ms");
  CHECK(format_value(1.23456, VT::kDuration) == "1.235s");
}

TEST_CASE("fractions print as percentages, rates per second, numbers plainly") {
  CHECK(format_value(0.02, VT::kFraction) == "2%");
  CHECK(format_value(0.0234, VT::kFraction) == "2.34%");
  CHECK(format_value(0.00012, VT::kFraction) == "0.012%");
  CHECK(format_value(1, VT::kFraction) == "100%");
  CHECK(format_value(50, VT::kRate) == "50/s");
  CHECK(format_value(49.96, VT::kRate) == "49.96/s");
  CHECK(format_value(734, VT::kNumber) == "734");
  CHECK(format_value(1e9, VT::kNumber) == "1000000000");
  CHECK(format_value(2.5e20, VT::kNumber) == "2.5e+20");
  CHECK(format_value(NAN, VT::kNumber) == "nan");
  CHECK(format_value(INFINITY, VT::kDuration) == "inf");
}

TEST_CASE("changes are signed percentages, windows show their plan times") {
  CHECK(format_change(0.25) == "+25%");
  CHECK(format_change(-0.031) == "-3.1%");
  CHECK(format_change(0) == "0%");
  CHECK(format_window(TimeWindow{10s, 35s, "during(trigger)"}) == "during(trigger) [10s..35s)");
  CHECK(format_window(TimeWindow{22500ms, 35s, "after(trigger)"}) == "after(trigger) [22.5s..35s)");
}
