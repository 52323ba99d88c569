// ErrorSignatures: how often each kind of failure happened ("orders 503", "payment timeout"),
// with the first request id of each so the report can point at a log line. Bounded: at most
// max_distinct signatures are tracked (200 by default); failures with a new signature after
// that are counted under kOther. Signatures longer than kMaxSignatureBytes are cut.
//
// Thread-safety: a value type; no internal locking.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::observe {

class ErrorSignatures {
 public:
  static constexpr size_t kDefaultMaxDistinct = 200;
  static constexpr size_t kMaxSignatureBytes = 200;
  static constexpr std::string_view kOther = "(other)";

  struct Entry {
    std::string signature;
    uint64_t count = 0;
    std::string first_request_id;  // of the earliest-recorded failure with this signature
    friend bool operator==(const Entry&, const Entry&) = default;
  };

  explicit ErrorSignatures(size_t max_distinct = kDefaultMaxDistinct)
      : max_distinct_(max_distinct) {}

  void add(std::string_view signature, std::string_view request_id, uint64_t n = 1);
  void merge(const ErrorSignatures& other);

  // Most frequent first, ties by signature; kOther (if any) is listed like the rest.
  std::vector<Entry> most_frequent() const;
  uint64_t total() const { return total_; }
  size_t distinct() const { return entries_.size(); }

 private:
  size_t max_distinct_;
  std::map<std::string, Entry, std::less<>> entries_;  // includes kOther once used
  uint64_t total_ = 0;
};

// The RFC 9457 problem of an error response, for its signature: `type "title"` (either may be
// missing; "" when neither is there), from a body whose content type is
// application/problem+json (or any +json / application/json that holds those members). Each
// member is cut to kMaxProblemMemberBytes and control characters become spaces. The target is
// not trusted: parsing is iterative and depth-limited. Secrets are the report's to redact
// (report/redact.h) when it lists the signatures.
inline constexpr size_t kMaxProblemMemberBytes = 80;
std::string problem_of(std::string_view content_type, std::string_view body);

// The signature of a failed request: "<route> <status>" for an HTTP error, plus its problem
// when it has one ("orders 502 https://example.com/probs/payment \"Payment failed\""), or
// "<route> <error class>" when no response arrived.
std::string error_signature(std::string_view route, int status, std::string_view error_class,
                            std::string_view problem);

}  // namespace faultline::observe
