// ProxyDriver: the `proxy` fault kind. Each step sets the toxics of one of the run's TCP proxies
// (tcp_proxy.h) to exactly the step's list; the state is
//   {"toxics":[{"name":..,"type":..,"direction":..,"toxicity":..,<attributes>}, ...]}
// with the attributes named as the fields of Toxic (toxic.h: latency_ms, jitter_ms,
// rate_kb_per_s, timeout_ms, bytes, average_size, size_variation, delay_us, delay_ms); "{}" or
// an empty list means no toxics.
//
// The run owns the proxies; the driver only changes their toxics. TcpProxy's set_toxic and
// remove_toxic never block, and wait_applied(0) says whether every change made so far acts on
// every connection: apply() makes the changes, tick() asks, and a change is confirmed (its event
// recorded, settled() true) once the proxy says so. A change the proxy does not confirm within
// confirm_timeout, a toxic the proxy refuses, or an unknown proxy is an apply failure.
//
// undo_all() removes every toxic of every proxy a step touched and waits for the proxy to
// confirm, within the budget.
//
// Thread-safety: the run session's control thread calls everything (TcpProxy itself may be
// called from any thread).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "faults/fault_driver.h"
#include "faults/toxic.h"

namespace faultline {

class TcpProxy;

struct ProxyDriverOptions {
  // How long a proxy may take to confirm a toxic change before it counts as failed (the loop
  // thread applies a change within a few milliseconds unless it is stuck or stopped).
  std::chrono::milliseconds confirm_timeout{2000};
};

// Parses a proxy state (see the top of this file) into toxics, in the order given. Throws
// std::invalid_argument saying what is wrong (unknown member or type, a toxic that
// toxic_problem() refuses, a name used twice). "{}" is no toxics.
std::vector<Toxic> parse_proxy_state(const std::string& state_json);

class ProxyDriver : public FaultDriver {
 public:
  // The run's proxy of that name, or nullptr when there is none. The proxies outlive the
  // driver's last call (undo_all).
  using ProxyOf = std::function<TcpProxy*(const std::string& name)>;

  explicit ProxyDriver(ProxyOf proxy_of, ProxyDriverOptions options = {});

  std::string_view kind() const override { return "proxy"; }
  bool handles(const FaultStep& step) const override { return step.kind == "proxy"; }

  // Checks that every proxy the plan names exists and that every toxic of the plan is valid,
  // and removes whatever toxics the proxies hold, waiting for that to be confirmed. Throws
  // EnvironmentError naming the proxy.
  void preflight(const Plan& plan) override;
  void apply(const FaultStep& step, Duration now) override;
  void tick(Duration now) override;
  bool undo_all(Duration now, const std::string& reason, Duration budget) override;
  bool settled() const override;
  FaultState state() const override;
  std::vector<FaultEvent> events() const override { return events_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct ProxyState {
    TcpProxy* proxy = nullptr;
    std::string desired = "{}";    // what the plan wants the proxy to hold now
    std::string confirmed = "{}";  // what the proxy last confirmed holding
    bool touched = false;          // a step changed its toxics (so it needs an undo)
    bool failed = false;           // the last change was refused or not confirmed in time
    std::string last_error;
    // Changes made and not confirmed yet, oldest first; confirming the last confirms all.
    std::vector<FaultEvent> unconfirmed;
    Clock::time_point changed_at{};  // when the newest unconfirmed change was made
  };

  void fail(ProxyState& p, FaultEvent ev, const std::string& error);

  ProxyOf proxy_of_;
  ProxyDriverOptions options_;
  std::map<std::string, ProxyState> proxies_;
  std::vector<FaultEvent> events_;
  std::vector<std::string> apply_failures_;
};

}  // namespace faultline
