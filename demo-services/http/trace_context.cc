#include "http/trace_context.h"

namespace faultline::demo {

namespace {

bool lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool all_zero(std::string_view s) {
  return s.find_first_not_of('0') == std::string_view::npos;
}

}  // namespace

std::string_view trace_id_of(std::string_view tp) {
  constexpr size_t kLength = 55;  // 2 + 1 + 32 + 1 + 16 + 1 + 2
  if (tp.size() < kLength) return {};
  const std::string_view version = tp.substr(0, 2);
  const std::string_view trace_id = tp.substr(3, 32);
  const std::string_view parent_id = tp.substr(36, 16);
  const std::string_view flags = tp.substr(53, 2);
  if (tp[2] != '-' || tp[35] != '-' || tp[52] != '-') return {};
  if (!lower_hex(version) || version == "ff") return {};
  if (!lower_hex(trace_id) || !lower_hex(parent_id) || !lower_hex(flags)) return {};
  if (all_zero(trace_id) || all_zero(parent_id)) return {};
  if (tp.size() > kLength && (version == "00" || tp[kLength] != '-')) return {};
  return trace_id;
}

}  // namespace faultline::demo
