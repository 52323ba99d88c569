// The one parser for durations, rates and sizes written by users ("30s", "1m30s", "800ms",
// "50/s", "1.5k/m", "64KiB"). Values are exact integers where it matters: durations are whole
// microseconds, so the plan never depends on floating-point rounding of what the user wrote.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace faultline {

using Duration = std::chrono::microseconds;

// Parses "250us", "800ms", "30s", "1.5s", "2m", "1h", "1m30s" (units us|ms|s|m|h, decimals
// allowed per component; no sign, no spaces; at most 10000h). "0" alone is zero.
// Returns nullopt when the text is not a duration or is not a whole number of microseconds.
std::optional<Duration> parse_duration(std::string_view text);

// Shortest exact rendering: 1500000us -> "1.5s", 90s -> "1m30s", 800ms -> "800ms".
std::string format_duration(Duration d);

// Parses a rate: "50/s", "3000/m", "2.5/s", "100/h"; a bare number means per second.
// Returns requests per second, or nullopt.
std::optional<double> parse_rate(std::string_view text);

// Parses a byte size: "512", "64KB"/"64KiB" (both 1024-based), "1MB", "2GiB".
std::optional<uint64_t> parse_bytes(std::string_view text);

}  // namespace faultline
