// The hedge gate: open for a latency tail, shut when most attempts are slow.
#include "resilience/hedge_gate.h"

#include <doctest/doctest.h>

using faultline::demo::HedgeGate;

TEST_CASE("hedge gate: starts as if the last 100 attempts were fast") {
  HedgeGate gate;
  CHECK(gate.open());
  for (int i = 0; i < 50; ++i) gate.record(true);
  CHECK(gate.open());  // a slow start alone (50 of 100) does not shut it
  gate.record(true);
  CHECK_FALSE(gate.open());
  CHECK(gate.slow_in_window() == 51);
}

TEST_CASE("hedge gate: open for a 10% tail, shut when payment is slow for everyone, open again") {
  HedgeGate gate;
  for (int i = 0; i < 300; ++i) {
    gate.record(i % 10 == 0);
    CHECK(gate.open());
  }
  CHECK(gate.slow_in_window() == 10);
  int slow_to_shut = 0;
  while (gate.open()) {
    gate.record(true);
    ++slow_to_shut;
  }
  CHECK(slow_to_shut == 46);  // replacing the 46 oldest (5 of them slow): 51 slow of 100
  CHECK(gate.slow_in_window() == 51);
  int fast_to_open = 0;
  while (!gate.open()) {
    gate.record(false);
    ++fast_to_open;
  }
  CHECK(fast_to_open == 5);  // the oldest four were fast; the fifth, slow, leaves the window
  CHECK(gate.slow_in_window() == 50);
}
