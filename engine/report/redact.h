// Removes secrets from text that goes into reports (error signatures, response excerpts):
// Authorization header values, bearer tokens, token/secret/password/api_key fields in
// JSON, query strings and key=value text, and e-mail addresses. Replaced by "[redacted]".
#pragma once

#include <string>
#include <string_view>

namespace faultline {

std::string redact_secrets(std::string_view text);

}  // namespace faultline
