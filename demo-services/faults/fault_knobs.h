// Fault knobs: the catalog each role accepts and the active state behind /__faults
// (docs/fault-contract.md is the contract; this is the reference implementation).
//
// Conventions: `*_rate` is a fraction 0..1, `*_pct` a percent 0..100, `*_ms*` whole
// milliseconds, counts whole numbers, booleans are JSON true/false. Every value has a baseline (the
// catalog default).
//
// Invariants of FaultState:
//  - Every active value is within its knob's range and of its knob's type.
//  - apply_json is all-or-nothing: a request with any bad member changes nothing.
//  - With a lease (ttl_ms), once `now` passes the deadline the state is the baseline and the
//    lease is gone; every read checks this, so no caller ever sees an expired fault.
//  - Time comes only from the `now` arguments (an injectable clock for tests).
//
// The same state machine holds the runtime levers (faults/levers.h): a catalog with defaults,
// an all-or-nothing merge, a reset and an optional lease.
//
// Thread-safety: FaultState's methods may be called concurrently.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roles/role.h"

namespace faultline::demo {

enum class KnobKind {
  kMilliseconds,  // JSON integer, unit "ms"
  kFraction,      // JSON number in [0, 1]
  kPercent,       // JSON number in [0, 100]
  kBool,          // JSON true/false
  kCount,         // JSON integer, a number of things (retries, requests); unit "count"
};

struct KnobSpec {
  std::string name;
  KnobKind kind;
  double min = 0;
  double max = 0;
  double default_value = 0;  // bools: 0 or 1
  std::string meaning;
};

// JSON type name for the catalog: "integer" | "number" | "boolean".
std::string_view knob_json_type(KnobKind kind);
// Unit for the catalog: "ms" | "fraction" | "percent" | "count" | "" (bool).
std::string_view knob_unit(KnobKind kind);

// The knobs a role accepts, in catalog order.
std::vector<KnobSpec> knob_catalog(Role role);

// The longest lease a POST may ask for.
inline constexpr int64_t kMaxTtlMs = 24LL * 3600 * 1000;

class FaultState {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FaultState(std::vector<KnobSpec> catalog);

  struct ApplyResult {
    bool ok = false;
    std::string knob;     // the offending member on failure ("" when the body itself is bad)
    std::string message;  // why, for the 400 problem detail
    std::string applied;  // on success: "knob=value ... ttl_ms=N", for the log
  };

  // Merges a JSON object of knob -> value (plus optional "ttl_ms") into the active state. On any
  // error nothing is applied. With ttl_ms the lease is (re)set to now + ttl_ms; without it an
  // existing lease keeps running and no lease stays no lease.
  ApplyResult apply_json(std::string_view body, Clock::time_point now);

  // Back to baseline; drops the lease.
  void reset();

  // Reverts to baseline if the lease has run out. Returns true when a lease expiry happened
  // that no earlier call reported (a read may have reverted first), so each expiry is reported
  // exactly once.
  bool expire_if_due(Clock::time_point now);

  // Active value of a knob (bools: 0/1). REQUIRES: the knob is in the catalog.
  double value(std::string_view knob, Clock::time_point now);
  bool flag(std::string_view knob, Clock::time_point now) { return value(knob, now) != 0; }

  // Remaining lease, or nullopt when there is none.
  std::optional<std::chrono::milliseconds> lease_remaining(Clock::time_point now);

  bool at_baseline(Clock::time_point now);

  // The GET /__faults body: {"role","active","baseline","lease":{"expires_in_ms"},"catalog"}.
  std::string state_json(std::string_view role, Clock::time_point now);

  const std::vector<KnobSpec>& catalog() const { return catalog_; }

 private:
  void expire_locked(Clock::time_point now);
  bool at_baseline_locked() const;
  std::optional<std::chrono::milliseconds> lease_remaining_locked(Clock::time_point now) const;
  void set_baseline_locked();
  const KnobSpec* find(std::string_view name) const;

  std::mutex mu_;
  std::vector<KnobSpec> catalog_;
  std::map<std::string, double, std::less<>> active_;
  std::optional<Clock::time_point> lease_deadline_;
  bool expiry_unreported_ = false;
};

}  // namespace faultline::demo
