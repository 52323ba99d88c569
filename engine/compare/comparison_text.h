// The terminal summary of a comparison: who was compared, a side-by-side table per phase
// (context metrics, then the gates on that phase), a verdict paragraph per gate, the result.
// Every change is an improvement in the metric's better direction: +86% means 86% better
// (lower latency or error rate, higher rps), -3% means 3% worse.
#pragma once

#include <cstdio>

#include "compare/comparison.h"

namespace faultline::compare {

void print_comparison(std::FILE* out, const Comparison& comparison);

}  // namespace faultline::compare
