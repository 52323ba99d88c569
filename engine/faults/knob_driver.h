// KnobDriver: the fault contract's knobs (docs/fault-contract.md), or with
// KnobProtocol::levers() the runtime levers (the same calls at /__levers). Each service with fault
// steps gets POST /__faults with the step's knobs and a lease (ttl_ms); while the plan holds
// the knobs, tick() re-posts them every half lease, so a faultline killed with SIGKILL leaves
// services that revert on their own within one lease. When the plan lifts them (a "{}" step,
// or the end of the run), the service gets POST /__faults/reset.
//
// Calls never block the session: each runs on a background thread, one at a time per
// service (so a service's calls keep their order), and tick() collects the outcomes. A reset
// that fails is retried every `retry_interval` until it is confirmed; renewals of lifted
// knobs stop at once, so even an unconfirmed reset is backed by the lease running out.
//
// Thread-safety: one thread (the run session's) calls everything; the transport runs on
// background threads, one call at a time per service.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "faults/fault_driver.h"
#include "net/http_call.h"

namespace faultline {

struct FaultEndpoint {
  std::string service;
  std::string base_url;  // "http://127.0.0.1:40123"
  std::string token;     // bearer token, empty for none
};

// How one kind of switch is reached on a service. Fault knobs (plan kind "knobs") live at
// POST /__faults and POST /__faults/reset; runtime levers (plan kind "levers", the demo's
// rollback switches) at PUT /__levers and DELETE /__levers. Both take the same JSON object
// (name -> value, plus ttl_ms), merge it, and list their catalog in GET <path>, so one driver
// serves both with the same lease, renewal and undo.
struct KnobProtocol {
  std::string kind = "knobs";  // the plan's FaultStep kind this driver handles
  std::string path = "/__faults";
  std::string set_method = "POST";
  std::string reset_method = "POST";
  std::string reset_path = "/__faults/reset";

  static KnobProtocol knobs() { return {}; }
  static KnobProtocol levers() { return {"levers", "/__levers", "PUT", "DELETE", "/__levers"}; }
};

struct KnobDriverOptions {
  KnobProtocol protocol;
  Duration lease = std::chrono::seconds(6);  // ttl_ms of every apply; renewed every lease/2
  std::chrono::milliseconds call_timeout{3000};
  // How often a failed reset is tried again while the run goes on.
  Duration retry_interval = std::chrono::seconds(1);
};

class KnobDriver : public FaultDriver {
 public:
  // Performs one HTTP exchange; http_call in production, a fake in tests. Called on
  // background threads, never concurrently for the same service.
  using Transport = std::function<HttpResponse(const HttpRequest&)>;

  // Where a service's fault endpoint is; asked in preflight, once the services run.
  using EndpointOf = std::function<FaultEndpoint(const std::string& service)>;

  KnobDriver(EndpointOf endpoint_of, KnobDriverOptions options, Transport transport = &http_call);
  // Waits for calls still running (each is bounded by call_timeout). Does not undo: the
  // session calls undo_all() on every path, and the lease covers a crash.
  ~KnobDriver() override;
  KnobDriver(const KnobDriver&) = delete;
  KnobDriver& operator=(const KnobDriver&) = delete;

  std::string_view kind() const override { return options_.protocol.kind; }
  bool handles(const FaultStep& step) const override { return step.kind == options_.protocol.kind; }

  // Checks that every service with fault steps exposes /__faults, accepts the token and
  // lists every knob the plan sets, then resets each to baseline. Throws EnvironmentError
  // naming the service and knob.
  void preflight(const Plan& plan) override;
  void apply(const FaultStep& step, Duration now) override;
  void tick(Duration now) override;
  bool undo_all(Duration now, const std::string& reason, Duration budget) override;
  bool settled() const override;
  // A call to some service has not been collected by tick() yet.
  bool calls_under_way() const;
  FaultState state() const override;
  std::vector<FaultEvent> events() const override { return events_; }

  // Knob catalogs seen in preflight, service -> knob names.
  const std::map<std::string, std::set<std::string>>& catalogs() const { return catalogs_; }

 private:
  struct CallResult {
    FaultEvent event;
    std::string established;  // the knobs the service holds if the call succeeded
  };
  struct ServiceState {
    FaultEndpoint endpoint;
    std::string desired = "{}";    // what the plan wants the service to hold now
    std::string confirmed = "{}";  // what the service last acknowledged
    std::string phase;             // phase of the step that set `desired`
    bool touched = false;          // ever sent knobs (so it needs an undo)
    Duration last_ack{0};          // plan time of the last acknowledged apply or renew
    Duration retry_at{0};          // a failed transition is not tried again before this
    std::string last_error;
    std::future<std::vector<CallResult>> call;  // the call under way, if any
  };

  ServiceState& service(const std::string& name);
  // Starts the call that moves `s` toward `desired` (reset, apply, or renew).
  void start_call(ServiceState& s, Duration now, const std::string& undo_reason);
  // Collects a finished call; returns false while it is still running.
  bool collect(ServiceState& s, Duration now, bool wait);
  std::vector<CallResult> perform(const FaultEndpoint& ep, std::vector<FaultEvent> planned) const;

  EndpointOf endpoint_of_;
  KnobDriverOptions options_;
  Transport transport_;
  std::map<std::string, ServiceState> services_;
  std::map<std::string, std::set<std::string>> catalogs_;
  std::vector<FaultEvent> events_;
  std::vector<std::string> apply_failures_;
};

}  // namespace faultline
