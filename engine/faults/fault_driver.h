// FaultDriver: flips the fault contract's knobs (docs/fault-contract.md) on the plan's
// schedule and guarantees they are undone.
//
// Every apply carries a lease (ttl_ms); renew() re-posts the current knobs well before the
// lease runs out, so a faultline killed with SIGKILL leaves services that revert on their
// own within one lease. undo_all() resets every service this driver may have touched and
// is called on every exit path (normal end, abort, signal, error) and by the destructor.
// Every call is recorded as a FaultEvent for the report.
//
// Thread-safety: one thread (the runner's control thread) calls everything.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/units.h"
#include "plan/plan.h"

namespace faultline {

struct FaultEndpoint {
  std::string service;
  std::string base_url;  // "http://127.0.0.1:40123"
  std::string token;     // bearer token, empty for none
};

struct FaultEvent {
  Duration at{0};     // plan time of the call
  std::string phase;  // phase the step belongs to ("" for undo at the end)
  std::string service;
  std::string action;      // "apply", "renew", "reset", "undo"
  std::string knobs_json;  // what was sent ("{}" for resets)
  bool ok = false;
  long status = 0;
  std::string error;  // transport error or response body excerpt on failure
  Duration call_latency{0};
};

class FaultDriver {
 public:
  FaultDriver(std::vector<FaultEndpoint> endpoints, Duration lease);
  ~FaultDriver();
  FaultDriver(const FaultDriver&) = delete;
  FaultDriver& operator=(const FaultDriver&) = delete;

  // Checks, before anything is injected, that every service with fault steps exposes
  // /__faults, accepts our token, and lists every knob the plan sets in its catalog, and
  // resets each to baseline. Throws EnvironmentError naming the service and knob.
  void preflight(const Plan& plan);

  // Makes the step's service hold exactly the step's knobs. Returns the recorded event.
  const FaultEvent& apply(const FaultStep& step, Duration now);

  // Re-posts current knobs to services whose lease is older than half its length.
  void renew(Duration now);

  // Resets every service that holds or may hold faults. Idempotent; returns false when a
  // reset failed (the lease still reverts that service).
  bool undo_all(Duration now, const std::string& reason);

  const std::vector<FaultEvent>& events() const { return events_; }
  Duration lease() const { return lease_; }
  // Knob catalogs seen in preflight, service -> knob names.
  const std::map<std::string, std::set<std::string>>& catalogs() const { return catalogs_; }

 private:
  const FaultEndpoint& endpoint(const std::string& service) const;
  FaultEvent post(const std::string& service, const std::string& path, const std::string& body,
                  Duration now);

  std::vector<FaultEndpoint> endpoints_;
  Duration lease_;
  std::map<std::string, std::string> current_;  // service -> knobs json currently held
  std::map<std::string, Duration> last_post_;   // service -> plan time of last apply/renew
  std::set<std::string> touched_;               // services we ever posted knobs to
  std::map<std::string, std::set<std::string>> catalogs_;
  std::vector<FaultEvent> events_;
  Duration last_now_{0};
};

}  // namespace faultline
