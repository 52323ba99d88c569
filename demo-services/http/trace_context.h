// The W3C Trace Context header `traceparent`, read only far enough to log the trace id a request
// carries, so a trace id that faultline's report lists can be found in the service logs.
//
//   traceparent = "00-" <32 lowercase hex: trace id> "-" <16 hex: parent id> "-" <2 hex: flags>
//
// Rules (W3C Trace Context level 1, "traceparent Header Field Values"): version "ff" is invalid;
// an all-zero trace id or parent id is invalid; a version other than "00" may append fields
// after a '-' (a "00" header must be exactly 55 characters). Anything invalid reads as no trace.
#pragma once

#include <string_view>

namespace faultline::demo {

// The 32-character trace id of `traceparent`, or "" when the header is absent or invalid.
// The result points into `traceparent`.
std::string_view trace_id_of(std::string_view traceparent);

}  // namespace faultline::demo
