// Removes secrets from text that goes into reports (error signatures, response excerpts):
// Authorization header values, bearer tokens, token/secret/password/api_key fields in
// JSON, query strings and key=value text, and e-mail addresses. Replaced by "[redacted]".
// Time is linear in the text's length and the stack use constant (RE2), so a body of any
// size, even megabytes of one line, is safe to pass.
#pragma once

#include <string>
#include <string_view>

namespace faultline {

std::string redact_secrets(std::string_view text);

}  // namespace faultline
