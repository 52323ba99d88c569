// UTF-8 validation with Go's utf8.Valid rules (what Prometheus applies to label values and HELP
// text): no overlong forms, no surrogates, nothing above U+10FFFF.
#pragma once

#include <string_view>

namespace faultline::observe {

bool is_valid_utf8(std::string_view bytes);

}  // namespace faultline::observe
