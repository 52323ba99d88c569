// FaultDriver: one kind of fault (service knobs today; processes, a TCP proxy and exec hooks
// next), driven by the run session on the plan's fault timeline.
//
// The contract every kind keeps, because the run's promise depends on it: a fault that was
// applied is undone, and the run knows whether the undo was confirmed.
//   - preflight() checks, before traffic, that every fault of the plan can be applied, and
//     brings the targets to baseline. It may block (bounded by its own timeouts).
//   - apply() and tick() never block the session's loop: calls to the outside run in the
//     background and their outcomes are collected by the next tick().
//   - tick() renews leases of faults that are held, and retries undos that did not go through.
//     A fault the plan has lifted is never renewed again, whatever its undo call returned.
//   - undo_all() brings every target back to baseline, retrying within `budget`, and returns
//     false when it could not confirm that; state().not_undone then names what is left.
//
// Thread-safety: the session's control thread calls everything.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/units.h"
#include "plan/plan.h"

namespace faultline {

// One call a driver made, for the report.
struct FaultEvent {
  Duration at{0};     // plan time the call was made
  std::string phase;  // phase of the step, or the undo's reason
  std::string kind;   // the driver's kind (plan.h, kFaultKinds)
  std::string target;
  std::string action;      // knobs: "reset" (preflight), "apply", "renew", "undo";
                           // other kinds name their own ("kill", "start", "run", ...)
  std::string state_json;  // what the call set ("{}" for resets)
  bool ok = false;
  long status = 0;
  std::string error;  // transport error or response excerpt on failure
  Duration call_latency{0};
  Duration ready_after{0};  // process "start": how long the instance took to become ready
};

// A fault the driver could not confirm as undone: the service and what it may still hold.
struct UndoGap {
  std::string kind;
  std::string target;
  std::string state_json;  // the faults it last acknowledged
  std::string error;       // why the last undo failed
};

struct FaultState {
  // Faults the plan needed that could not be applied: the incident cannot be reproduced.
  std::vector<std::string> apply_failures;
  // Lifted by the plan (or at the end) but not confirmed back at baseline.
  std::vector<UndoGap> not_undone;
};

class FaultDriver {
 public:
  virtual ~FaultDriver() = default;

  virtual std::string_view kind() const = 0;
  // True when this driver carries out `step`.
  virtual bool handles(const FaultStep& step) const = 0;

  virtual void preflight(const Plan& plan) = 0;
  virtual void apply(const FaultStep& step, Duration now) = 0;
  virtual void tick(Duration now) = 0;
  virtual bool undo_all(Duration now, const std::string& reason, Duration budget) = 0;
  // No call is under way and every fault the plan wants now is confirmed (after a tick()).
  virtual bool settled() const = 0;

  virtual FaultState state() const = 0;
  virtual std::vector<FaultEvent> events() const = 0;
};

}  // namespace faultline
