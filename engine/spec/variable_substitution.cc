#include "spec/variable_substitution.h"

#include <cctype>

namespace faultline {

namespace {

bool is_name(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

SubstitutionResult substitute_variables(std::string_view text, const VariableLookup& lookup) {
  SubstitutionResult r;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != '$') {
      r.text.push_back(c);
      ++i;
      continue;
    }
    if (text.substr(i, 3) == "$${") {
      r.text += "${";
      r.changed = true;
      i += 3;
      continue;
    }
    if (text.substr(i, 2) != "${") {
      r.text.push_back(c);
      ++i;
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      r.problems.push_back({i, 2, "unterminated ${: expected ${NAME} or ${NAME:-default}",
                            "write $${ for a literal ${"});
      r.text.append(text.substr(i));
      break;
    }
    const std::string_view inner = text.substr(i + 2, close - i - 2);
    const size_t sep = inner.find(":-");
    const std::string name(inner.substr(0, sep));
    const bool has_default = sep != std::string_view::npos;
    const std::string_view fallback = has_default ? inner.substr(sep + 2) : std::string_view();
    r.changed = true;
    if (!is_name(name)) {
      r.problems.push_back({i, close - i + 1,
                            "\"" + name + "\" is not a variable name (letters, digits and _)",
                            "write ${NAME} or ${NAME:-default}; $${ is a literal ${"});
    } else {
      std::optional<std::string> value = lookup ? lookup(name) : std::nullopt;
      if (value && !value->empty()) {
        r.text += *value;
      } else if (has_default) {
        r.text.append(fallback);
      } else if (value) {
        r.text += *value;  // set but empty, and no default: empty it is
      } else {
        r.problems.push_back({i, close - i + 1, "variable " + name + " is not set",
                              "set it in the environment or pass --set " + name +
                                  "=VALUE, or give a default: ${" + name + ":-VALUE}"});
      }
    }
    i = close + 1;
  }
  return r;
}

}  // namespace faultline
