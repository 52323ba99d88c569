#include "report/redact.h"

#include <regex>

namespace faultline {

std::string redact_secrets(std::string_view text) {
  // Compiled once; reports call this a few hundred times per run at most.
  static const std::regex kAuthHeader(R"((authorization\s*:\s*)[^\r\n]*)", std::regex::icase);
  static const std::regex kBearer(R"((bearer\s+)[A-Za-z0-9._~+/=-]+)", std::regex::icase);
  static const std::regex kJsonField(
      R"x(("[A-Za-z_-]*(token|secret|password|passwd|api_?key|apikey)[A-Za-z_-]*"\s*:\s*)"[^"]*")x",
      std::regex::icase);
  static const std::regex kKeyValue(
      R"x(\b([A-Za-z_-]*(token|secret|password|passwd|api_?key|apikey)[A-Za-z_-]*=)[^&\s"',;]+)x",
      std::regex::icase);
  static const std::regex kEmail(R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})");
  std::string out(text);
  out = std::regex_replace(out, kAuthHeader, "$1[redacted]");
  out = std::regex_replace(out, kBearer, "$1[redacted]");
  out = std::regex_replace(out, kJsonField, "$1\"[redacted]\"");
  out = std::regex_replace(out, kKeyValue, "$1[redacted]");
  out = std::regex_replace(out, kEmail, "[redacted-email]");
  return out;
}

}  // namespace faultline
