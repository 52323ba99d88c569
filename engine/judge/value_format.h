// How judged values read in verdicts and reports: durations in us/ms/s, fractions as
// percentages, rates per second, plain numbers without needless digits. About four
// significant digits: enough to tell 799.6ms from 800ms, short enough to scan.
#pragma once

#include <string>

#include "dsl/ast.h"
#include "judge/metric_source.h"

namespace faultline::judge {

// 0.4123 s -> "412.3ms", 0.00025 -> "250us", 12.5 -> "12.5s"; 0.0234 fraction -> "2.34%";
// 50 rate -> "50/s"; 734 number -> "734". Non-finite values print as "inf", "-inf", "nan", without
// a unit.
std::string format_value(double value, dsl::ValueType type);

// A signed relative change as a percentage: 0.25 -> "+25%", -0.031 -> "-3.1%".
std::string format_change(double fraction);

// "during(trigger) [10s..35s)"
std::string format_window(const TimeWindow& window);

}  // namespace faultline::judge
