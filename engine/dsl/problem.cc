#include "dsl/problem.h"

#include "common/text.h"

namespace faultline::dsl {

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += sep;
    out += parts[i];
  }
  return out;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  const auto best = closest_match(word, candidates);
  return best ? "did you mean '" + *best + "'? " : "";
}

}  // namespace faultline::dsl
