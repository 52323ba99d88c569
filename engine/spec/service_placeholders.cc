#include "spec/service_placeholders.h"

#include <cctype>

namespace faultline {

namespace {

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

}  // namespace

std::vector<ServicePlaceholder> find_service_placeholders(std::string_view text) {
  std::vector<ServicePlaceholder> out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '{') continue;
    size_t j = i + 1;
    while (j < text.size() && is_name_char(text[j])) ++j;
    const size_t first_end = j;
    if (first_end == i + 1) continue;
    size_t second_end = 0;
    if (j < text.size() && text[j] == '.') {
      ++j;
      const size_t second_start = j;
      while (j < text.size() && is_name_char(text[j])) ++j;
      if (j == second_start) continue;
      second_end = j;
    }
    if (j >= text.size() || text[j] != '}') continue;
    ServicePlaceholder p;
    if (second_end == 0) {
      p.attribute = std::string(text.substr(i + 1, first_end - i - 1));
    } else {
      p.service = std::string(text.substr(i + 1, first_end - i - 1));
      p.attribute = std::string(text.substr(first_end + 1, second_end - first_end - 1));
    }
    p.offset = i;
    p.length = j - i + 1;
    out.push_back(std::move(p));
    i = j;
  }
  return out;
}

}  // namespace faultline
