// Small text helpers that user-facing messages share.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

// Levenshtein distance (insert/delete/substitute, cost 1 each).
size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate to `word` when it is close enough to be a plausible typo
// (distance <= max(1, len/3)), for "did you mean" hints. Ties go to the earliest candidate.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

// Splits on a single character; keeps empty fields.
std::vector<std::string> split(std::string_view text, char sep);

std::string_view trim(std::string_view text);

}  // namespace faultline
