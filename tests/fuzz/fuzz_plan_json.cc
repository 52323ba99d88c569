// Fuzzes reading a bundle's plan.json (plan/plan_json.h plan_from_json), which judge, compare
// and replay do with whatever the bundle holds: JSON of any depth (common/json_parse.h), any
// member of any type, statements in any text. Beyond "no crash, no leak, no hang": every
// problem is a UsageError with a message, and a plan that loads (its hash matched) writes back
// to JSON that loads to the same hash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "plan/plan_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const faultline::Plan plan = faultline::plan_from_json(text);
    const faultline::Plan again = faultline::plan_from_json(faultline::plan_to_json(plan, 0, true));
    if (again.plan_hash != plan.plan_hash) std::abort();
  } catch (const faultline::UsageError& e) {
    if (std::string(e.what()).empty()) std::abort();
  }
  return 0;
}
