// The compare artifact: a Comparison as JSON (schemas/compare.schema.json), written by
// `faultline compare` to artifacts/compare-<scenario>-<UTC timestamp>.json.
#pragma once

#include <string>

#include "compare/comparison.h"

namespace faultline::compare {

inline constexpr int kCompareSchemaVersion = 1;

// Pretty-printed JSON. Infinite changes and missing values are null, with a text beside them
// that says what they are ("+inf", "no value").
std::string comparison_to_json(const Comparison& comparison);

}  // namespace faultline::compare
