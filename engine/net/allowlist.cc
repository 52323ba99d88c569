#include "net/allowlist.h"

#include <arpa/inet.h>
#include <strings.h>

#include <cctype>
#include <charconv>

namespace faultline {

bool parse_url(const std::string& url, UrlParts* out) {
  const auto sep = url.find("://");
  if (sep == std::string::npos || sep == 0) return false;
  UrlParts parts;
  parts.scheme = url.substr(0, sep);
  size_t pos = sep + 3;
  const size_t path_start = url.find('/', pos);
  std::string authority =
      url.substr(pos, path_start == std::string::npos ? std::string::npos : path_start - pos);
  parts.path = path_start == std::string::npos ? "" : url.substr(path_start);
  if (authority.empty()) return false;
  std::string port_text;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return false;
    parts.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return false;
      port_text = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    parts.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (parts.host.empty()) return false;
  if (!port_text.empty()) {
    int port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port <= 0 || port > 65535)
      return false;
    parts.port = port;
  }
  *out = std::move(parts);
  return true;
}

bool host_allowed(const std::string& host, const std::vector<std::string>& allow) {
  in_addr v4{};
  in6_addr v6{};
  const bool is_v4 = inet_pton(AF_INET, host.c_str(), &v4) == 1;
  const bool is_v6 = !is_v4 && inet_pton(AF_INET6, host.c_str(), &v6) == 1;
  for (const auto& entry : allow) {
    const auto slash = entry.find('/');
    if (slash != std::string::npos) {
      if (!is_v4) continue;
      in_addr net{};
      if (inet_pton(AF_INET, entry.substr(0, slash).c_str(), &net) != 1) continue;
      int bits = -1;
      const std::string b = entry.substr(slash + 1);
      auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
      if (ec != std::errc() || bits < 0 || bits > 32) continue;
      const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
      if ((ntohl(v4.s_addr) & mask) == (ntohl(net.s_addr) & mask)) return true;
      continue;
    }
    if (is_v4) {
      in_addr e{};
      if (inet_pton(AF_INET, entry.c_str(), &e) == 1 && e.s_addr == v4.s_addr) return true;
    } else if (is_v6) {
      in6_addr e{};
      if (inet_pton(AF_INET6, entry.c_str(), &e) == 1 &&
          std::equal(std::begin(e.s6_addr), std::end(e.s6_addr), std::begin(v6.s6_addr)))
        return true;
    } else if (strcasecmp(entry.c_str(), host.c_str()) == 0) {
      return true;
    }
  }
  return false;
}

bool is_allow_entry(const std::string& entry) {
  if (entry.empty()) return false;
  in_addr v4{};
  in6_addr v6{};
  const size_t slash = entry.find('/');
  if (slash != std::string::npos) {
    if (inet_pton(AF_INET, entry.substr(0, slash).c_str(), &v4) != 1) return false;
    int bits = -1;
    const std::string b = entry.substr(slash + 1);
    auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), bits);
    return ec == std::errc() && p == b.data() + b.size() && bits >= 0 && bits <= 32;
  }
  if (inet_pton(AF_INET, entry.c_str(), &v4) == 1) return true;
  if (inet_pton(AF_INET6, entry.c_str(), &v6) == 1) return true;
  bool all_numeric = true;
  for (unsigned char c : entry) {
    if (!std::isalnum(c) && c != '-' && c != '.' && c != '_') return false;
    all_numeric &= std::isdigit(c) || c == '.';
  }
  return !all_numeric;
}

}  // namespace faultline
