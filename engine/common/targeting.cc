#include "common/targeting.h"

#include <string>

#include "common/rng.h"

namespace faultline {

double targeting_fraction(std::string_view knob_name, std::string_view request_id) {
  std::string key;
  key.reserve(knob_name.size() + 1 + request_id.size());
  key.append(knob_name).push_back('\n');
  key.append(request_id);
  const uint64_t h = mix64(fnv1a64(key));
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

}  // namespace faultline
