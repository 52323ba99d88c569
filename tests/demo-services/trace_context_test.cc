// The trace id the services log: read from a valid W3C traceparent only.
#include "http/trace_context.h"

#include <doctest/doctest.h>

#include <string>

using faultline::demo::trace_id_of;

TEST_CASE("traceparent: the trace id of a valid header") {
  CHECK(trace_id_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") ==
        "4bf92f3577b34da6a3ce929d0e0e4736");
  // faultline's own headers (engine/plan/arrival_stream.h) are of this form.
  CHECK(trace_id_of("00-632a3645102a3d4bfc59999de598f210-f01dadc059856bb9-01") ==
        "632a3645102a3d4bfc59999de598f210");
  // A future version may append fields after a '-'.
  CHECK(trace_id_of("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra") ==
        "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST_CASE("traceparent: invalid headers have no trace id") {
  for (const std::string bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",       // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // 00 is exactly 55
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",   // no '-' before more
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",    // separators
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",    // not hex
       }) {
    CAPTURE(bad);
    CHECK(trace_id_of(bad).empty());
  }
}
