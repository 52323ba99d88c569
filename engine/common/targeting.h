// Deterministic fault targeting, shared by the engine and every service that implements the
// fault contract (docs/fault-contract.md documents the algorithm so other languages can copy it).
//
// Whether a percentage knob hits a request depends only on the request id and the knob name:
// no RNG, no clock. The same request ids are hit on every run, whatever the timing.
//
//   h = mix64(fnv1a64(knob_name + "\n" + request_id))     (both 64-bit, see common/rng.h)
//   u = (h >> 11) * 2^-53                                 (a double in [0, 1))
//   hit(p) = u < p                                        (p is a fraction in [0, 1])
#pragma once

#include <cstdint>
#include <string_view>

namespace faultline {

// The value u in [0, 1) described above.
double targeting_fraction(std::string_view knob_name, std::string_view request_id);

// True when a knob active for `fraction` (0..1) of requests applies to this request.
inline bool targeting_hit(std::string_view knob_name, std::string_view request_id,
                          double fraction) {
  return targeting_fraction(knob_name, request_id) < fraction;
}

}  // namespace faultline
