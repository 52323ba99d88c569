// Fuzzes the one parser of user-written durations, rates and sizes. Invariants checked
// beyond "no crash": a parsed duration formats to text that parses back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/units.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto d = faultline::parse_duration(text)) {
    const auto again = faultline::parse_duration(faultline::format_duration(*d));
    if (!again || *again != *d) std::abort();
  }
  (void)faultline::parse_rate(text);
  (void)faultline::parse_bytes(text);
  return 0;
}
