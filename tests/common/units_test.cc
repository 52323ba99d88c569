#include "common/units.h"

#include <doctest/doctest.h>

using faultline::Duration;
using faultline::format_duration;
using faultline::parse_duration;

TEST_CASE("durations parse exactly") {
  CHECK(parse_duration("30s") == Duration{30'000'000});
  CHECK(parse_duration("1.5s") == Duration{1'500'000});
  CHECK(parse_duration("800ms") == Duration{800'000});
  CHECK(parse_duration("250us") == Duration{250});
  CHECK(parse_duration("2m") == Duration{120'000'000});
  CHECK(parse_duration("1h") == Duration{3'600'000'000});
  CHECK(parse_duration("1m30s") == Duration{90'000'000});
  CHECK(parse_duration("0") == Duration{0});
  CHECK(parse_duration("0.001ms") == Duration{1});
}

TEST_CASE("malformed durations are rejected") {
  for (const char* bad : {"", "30", "30 sec", "30sec", "-1s", "1.s", ".5s", "1.0000001ms", "s",
                          "1x", "1s2", "10001h", "600001m"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
}

TEST_CASE("durations format to their shortest exact form") {
  CHECK(format_duration(Duration{1'500'000}) == "1.5s");
  CHECK(format_duration(Duration{90'000'000}) == "1m30s");
  CHECK(format_duration(Duration{800'000}) == "800ms");
  CHECK(format_duration(Duration{1'250}) == "1.25ms");
  CHECK(format_duration(Duration{7}) == "7us");
  CHECK(format_duration(Duration{0}) == "0s");
  CHECK(format_duration(Duration{3'600'000'000}) == "1h");
  for (const char* s : {"1.5s", "1m30s", "800ms", "1.25ms", "7us", "2h5m"})
    CHECK(format_duration(*parse_duration(s)) == s);
}

TEST_CASE("rates and sizes") {
  CHECK(faultline::parse_rate("50/s") == doctest::Approx(50.0));
  CHECK(faultline::parse_rate("3000/m") == doctest::Approx(50.0));
  CHECK(faultline::parse_rate("2.5") == doctest::Approx(2.5));
  CHECK_FALSE(faultline::parse_rate("50/sec").has_value());
  CHECK_FALSE(faultline::parse_rate("fast").has_value());
  CHECK(faultline::parse_bytes("64KiB") == 65536u);
  CHECK(faultline::parse_bytes("1MB") == 1048576u);
  CHECK(faultline::parse_bytes("512") == 512u);
  CHECK_FALSE(faultline::parse_bytes("1.5").has_value());
}
