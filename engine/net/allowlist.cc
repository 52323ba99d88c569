#include "net/allowlist.h"

#include <arpa/inet.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace faultline {

namespace {

bool fail(UrlProblem* problem, size_t offset, std::string message, size_t length = 1) {
  if (problem != nullptr) *problem = {offset, std::max<size_t>(1, length), std::move(message)};
  return false;
}

bool is_control_or_space(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f;
}

std::string printable(char c) {
  if (c == ' ') return "a space";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned char>(c));
  return std::string("control character ") + buf;
}

}  // namespace

bool parse_url(const std::string& url, UrlParts* out, UrlProblem* problem) {
  for (size_t i = 0; i < url.size(); ++i) {
    if (is_control_or_space(url[i]))
      return fail(problem, i, "a URL cannot contain " + printable(url[i]) + " (curl refuses it)");
  }
  const auto sep = url.find("://");
  if (sep == std::string::npos || sep == 0)
    return fail(problem, 0, "expected scheme://host[:port], e.g. http://127.0.0.1:8080");
  UrlParts parts;
  parts.scheme = url.substr(0, sep);
  const size_t pos = sep + 3;
  const size_t authority_end = std::min(url.find_first_of("/?#", pos), url.size());
  const std::string authority = url.substr(pos, authority_end - pos);
  if (const size_t at = authority.rfind('@'); at != std::string::npos) {
    return fail(problem, pos,
                "user info ('" + authority.substr(0, at + 1) +
                    "') is not allowed in a service URL: curl would send it as credentials, "
                    "and the host is what follows the '@'",
                at + 1);
  }
  if (const size_t q = url.find_first_of("?#", pos); q != std::string::npos) {
    return fail(problem, q,
                url[q] == '#'
                    ? "a fragment ('" + url.substr(q) +
                          "') is not allowed in a service URL: it is never sent, and every "
                          "path faultline appends would land inside it"
                    : "a query ('" + url.substr(q) +
                          "') is not allowed in a service URL: every path faultline appends "
                          "would land inside it",
                url.size() - q);
  }
  parts.path = url.substr(authority_end);
  if (authority.empty()) return fail(problem, pos, "the URL has no host");
  std::string port_text;
  size_t port_at = 0;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos)
      return fail(problem, pos, "an IPv6 host is written in brackets: [::1]");
    parts.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':')
        return fail(problem, pos + close + 1, "expected ':' and a port after the IPv6 host");
      port_text = authority.substr(close + 2);
      port_at = pos + close + 2;
    }
  } else {
    const auto colon = authority.rfind(':');
    parts.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = authority.substr(colon + 1);
      port_at = pos + colon + 1;
    }
  }
  if (parts.host.empty()) return fail(problem, pos, "the URL has no host");
  if (!port_text.empty()) {
    int port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port <= 0 || port > 65535)
      return fail(problem, port_at, "port \"" + port_text + "\" is not a number from 1 to 65535",
                  port_text.size());
    parts.port = port;
  }
  if (out != nullptr) *out = std::move(parts);
  return true;
}

bool breaks_url_path(char c) {
  return is_control_or_space(c) || c == '#';
}

std::optional<UrlProblem> url_path_problem(std::string_view path) {
  if (path.empty() || path.front() != '/') return UrlProblem{0, 1, "a path starts with '/'"};
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '#')
      return UrlProblem{i, path.size() - i,
                        "'#' starts a fragment, which curl never sends: \"" +
                            std::string(path.substr(0, i)) + "\" would be requested"};
    if (is_control_or_space(path[i]))
      return UrlProblem{i, 1, "a path cannot contain " + printable(path[i]) + " (curl refuses it)"};
  }
  return std::nullopt;
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

std::optional<std::string> loopback_url_problem(const std::string& url, UrlParts* parts) {
  UrlParts local;
  UrlParts& p = parts ? *parts : local;
  UrlProblem problem;
  if (!parse_url(url, &p, &problem)) return problem.message;
  if (!host_allowed(p.host, {"127.0.0.0/8", "::1", "localhost"}))
    return "faultline talks only to loopback addresses";
  return std::nullopt;
}

}  // namespace faultline
