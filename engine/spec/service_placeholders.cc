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
    int instance = -1;
    if (j < text.size() && text[j] == '#') {
      size_t k = j + 1;
      while (k < text.size() && k - j <= 4 && std::isdigit(static_cast<unsigned char>(text[k])))
        ++k;
      // {name#K} must go on with ".attribute".
      if (k == j + 1 || k >= text.size() || text[k] != '.') continue;
      instance = std::stoi(std::string(text.substr(j + 1, k - j - 1)));
      j = k;
    }
    size_t second_start = 0, second_end = 0;
    if (j < text.size() && text[j] == '.') {
      ++j;
      second_start = j;
      while (j < text.size() && is_name_char(text[j])) ++j;
      if (j == second_start) continue;
      second_end = j;
    }
    if (j >= text.size() || text[j] != '}') continue;
    if (instance >= 0 && second_end == 0) continue;
    ServicePlaceholder p;
    p.instance = instance;
    if (second_end == 0) {
      p.attribute = std::string(text.substr(i + 1, first_end - i - 1));
    } else {
      p.service = std::string(text.substr(i + 1, first_end - i - 1));
      p.attribute = std::string(text.substr(second_start, second_end - second_start));
    }
    p.offset = i;
    p.length = j - i + 1;
    out.push_back(std::move(p));
    i = j;
  }
  return out;
}

}  // namespace faultline
