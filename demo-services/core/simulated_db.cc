#include "core/simulated_db.h"

#include <algorithm>
#include <chrono>

#include "common/targeting.h"

namespace faultline::demo {

SimulatedDb::SimulatedDb(Duration base_latency, FaultState& faults, ServiceMetrics& metrics,
                         const StopSignal& stop)
    : base_latency_(base_latency), faults_(faults), metrics_(metrics), stop_(stop) {}

DbOutcome SimulatedDb::call(std::string_view request_id,
                            std::optional<std::chrono::steady_clock::time_point> deadline) {
  const auto start = std::chrono::steady_clock::now();
  Duration latency = base_latency_;
  const double add_ms = faults_.value("db_latency_ms_add", start);
  if (add_ms > 0 && targeting_hit("db_latency_tail_pct", request_id,
                                  faults_.value("db_latency_tail_pct", start) / 100.0))
    latency += std::chrono::milliseconds(static_cast<int64_t>(add_ms));
  DbOutcome outcome = DbOutcome::kOk;
  if (deadline && start + latency > *deadline) {
    const auto left =
        std::max(Duration{0}, std::chrono::duration_cast<Duration>(*deadline - start));
    outcome = stop_.wait_for(left) ? DbOutcome::kDeadlineExceeded : DbOutcome::kInterrupted;
  } else if (!stop_.wait_for(latency)) {
    outcome = DbOutcome::kInterrupted;
  } else if (targeting_hit("db_fail_rate", request_id, faults_.value("db_fail_rate", start))) {
    outcome = DbOutcome::kFailed;
  }
  const char* label = outcome == DbOutcome::kOk                 ? "ok"
                      : outcome == DbOutcome::kDeadlineExceeded ? "timeout"
                                                                : "error";
  metrics_.dep_call_duration.with({"db", label})
      .Observe(seconds_between(start, std::chrono::steady_clock::now()));
  return outcome;
}

void SimulatedDb::put(const std::string& key, std::string value) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = rows_.insert_or_assign(key, std::move(value));
  if (!inserted) return;
  insertion_order_.push_back(key);
  if (insertion_order_.size() > kMaxRows) {
    rows_.erase(insertion_order_.front());
    insertion_order_.pop_front();
  }
}

std::optional<std::string> SimulatedDb::get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rows_.find(key);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

}  // namespace faultline::demo
