#include "report/redact.h"

#include <re2/re2.h>

namespace faultline {

namespace {

// Bodies are bytes, not necessarily UTF-8: Latin-1 makes every byte one character, so an
// invalid UTF-8 byte inside a secret cannot end a match early and leave the rest of the
// secret in the report. The patterns are ASCII, so Latin-1 reads them as written.
RE2::Options redaction_options(bool case_sensitive) {
  RE2::Options options(RE2::Latin1);
  options.set_case_sensitive(case_sensitive);
  options.set_log_errors(false);
  return options;
}

struct Redaction {
  RE2 pattern;
  const char* rewrite;  // RE2 rewrite: \1 is the first group
};

}  // namespace

std::string redact_secrets(std::string_view text) {
  // Compiled once (RE2 is thread-safe for matching); reports call this a few hundred times per
  // run at most. RE2 matches in linear time without recursion, so a body of any size is safe.
  // [[:space:]] is \t \n \v \f \r and space, the ASCII whitespace the C locale knows.
  static const Redaction kRedactions[] = {
      {{R"((authorization[[:space:]]*:[[:space:]]*)[^\r\n]*)", redaction_options(false)},
       R"(\1[redacted])"},
      {{R"((bearer[[:space:]]+)[A-Za-z0-9._~+/=-]+)", redaction_options(false)}, R"(\1[redacted])"},
      {{R"x(("[A-Za-z_-]*(token|secret|password|passwd|api_?key|apikey)[A-Za-z_-]*"[[:space:]]*:[[:space:]]*)"[^"]*")x",
        redaction_options(false)},
       R"(\1"[redacted]")"},
      {{R"x(\b([A-Za-z_-]*(token|secret|password|passwd|api_?key|apikey)[A-Za-z_-]*=)[^&[:space:]"',;]+)x",
        redaction_options(false)},
       R"(\1[redacted])"},
      {{R"([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})", redaction_options(true)},
       "[redacted-email]"},
  };
  std::string out(text);
  for (const Redaction& r : kRedactions) RE2::GlobalReplace(&out, r.pattern, r.rewrite);
  return out;
}

}  // namespace faultline
