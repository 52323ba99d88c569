// The target allowlist: faultline only talks to hosts the environment allows, and by
// default that is loopback only (127.0.0.0/8, ::1, localhost). A load or fault tool
// pointed at production by a typo is the incident nobody wants to reproduce.
#pragma once

#include <string>
#include <vector>

namespace faultline {

struct UrlParts {
  std::string scheme;  // "http"
  std::string host;    // without brackets for IPv6
  int port = 0;        // 0 when absent (scheme default)
  std::string path;    // from the first '/', "" when absent
};

// Parses "http://[user@]host[:port][/path][?query]". Returns false for anything else.
bool parse_url(const std::string& url, UrlParts* out);

// True when `host` (an IPv4/IPv6 literal or a name) is covered by an entry of `allow`:
// an IPv4 CIDR ("127.0.0.0/8"), an IPv4/IPv6 literal ("::1"), or a host name (exact match,
// case-insensitive). Names are never resolved: "localhost" must be listed to be allowed.
bool host_allowed(const std::string& host, const std::vector<std::string>& allow);

// True when `entry` can stand in an allowlist: an IPv4 CIDR block, an IPv4 or IPv6 literal,
// or a host name (letters, digits, '-', '.', '_', not all digits and dots).
bool is_allow_entry(const std::string& entry);

}  // namespace faultline
