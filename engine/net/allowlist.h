// The target allowlist: faultline only talks to hosts the environment allows, and by
// default that is loopback only (127.0.0.0/8, ::1, localhost). A load or fault tool
// pointed at production by a typo is the incident nobody wants to reproduce.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

struct UrlParts {
  std::string scheme;  // "http"
  std::string host;    // without brackets for IPv6
  int port = 0;        // 0 when absent (scheme default)
  std::string path;    // from the first '/', "" when absent
};

// Why a URL or a path cannot be used: the byte offset of the offending part in the text that
// was checked, and what is wrong in words ("user info ('user:pw@') is not allowed ...").
struct UrlProblem {
  size_t offset = 0;
  size_t length = 1;  // bytes of the offending part, >= 1
  std::string message;
};

// Parses a service URL "scheme://host[:port][/path]": the base that faultline appends request,
// readiness, scrape and fault paths to. Returns false for anything else, with the reason in
// `problem` when it is given. Refused, because curl would not send what the text seems to say:
//   user info ("http://user:pw@host/"): credentials in a URL end up in logs and artifacts, and
//     "http://127.0.0.1:80@example.com/" names example.com, not loopback;
//   a query ("?a=1") or a fragment ("#x"): every path appended to the base would land inside it
//     (a fragment is never sent at all);
//   spaces and control characters (curl refuses the URL);
//   a port outside 1..65535, an empty host.
// Both `faultline validate` (the environment loader) and `faultline run` (the service launcher)
// call this, so what one refuses the other refuses too.
bool parse_url(const std::string& url, UrlParts* out, UrlProblem* problem = nullptr);

// Why `path` cannot be appended to a service URL, or nullopt when it can. A path starts with
// '/' and has no space or control character (curl refuses the request) and no '#' (curl cuts
// the fragment off and sends the rest: "/orders#x" would request "/orders"). A query ('?') is
// fine. Offsets in the problem are into `path`.
std::optional<UrlProblem> url_path_problem(std::string_view path);

// True when `c` cannot appear in a request path as it is sent: a space, a control character
// or '#' (see url_path_problem). Template values are checked with this character by character.
bool breaks_url_path(char c);

// True when `host` (an IPv4/IPv6 literal or a name) is covered by an entry of `allow`:
// an IPv4 CIDR ("127.0.0.0/8"), an IPv4/IPv6 literal ("::1"), or a host name (exact match,
// case-insensitive). Names are never resolved: "localhost" must be listed to be allowed.
bool host_allowed(const std::string& host, const std::vector<std::string>& allow);

// Why `url` cannot be the base URL of a loopback-only endpoint a command is pointed at
// (`judge --prometheus`, `inspect`): it does not parse (parse_url's reason) or its host is not
// loopback (127.0.0.0/8, ::1, localhost). nullopt when it can; then *parts (when given) holds
// its parts.
std::optional<std::string> loopback_url_problem(const std::string& url, UrlParts* parts = nullptr);

// True when `entry` can stand in an allowlist: an IPv4 CIDR block, an IPv4 or IPv6 literal,
// or a host name (letters, digits, '-', '.', '_', not all digits and dots).
bool is_allow_entry(const std::string& entry);

}  // namespace faultline
