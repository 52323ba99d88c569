// Deadline propagation between the demo services: the caller tells the callee how much time it
// has left, and the callee stops working on a request nobody waits for any more.
//
//   X-Deadline-Ms: <n>     the caller's remaining budget for this request, in whole
//                          milliseconds (0..86400000), counted from when the callee reads it
//
// Relative, like gRPC's grpc-timeout, so the two clocks need not agree; time spent on the wire
// and in the callee's accept queue is not subtracted (the callee errs on the late side). Only
// services started with --deadline-propagation send or honour it; a malformed value is a 400.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "http/http_server.h"
#include "metrics/service_metrics.h"

namespace faultline::demo {

inline constexpr std::string_view kDeadlineHeader = "X-Deadline-Ms";
inline constexpr int64_t kMaxDeadlineMs = 86'400'000;

using DeadlineClock = std::chrono::steady_clock;

// Reads X-Deadline-Ms relative to `now` into *deadline (nullopt when the header is absent).
// Returns the 400 problem when the header is malformed.
std::optional<Response> read_request_deadline(const Request& request, DeadlineClock::time_point now,
                                              std::optional<DeadlineClock::time_point>* deadline);

// The 504 answer for work abandoned because the caller's deadline passed, counted as
// deadline_abandoned_total{stage} (stage: arrival, db, charge).
Response deadline_exceeded_response(const Request& request, ServiceMetrics& metrics,
                                    std::string_view stage);

}  // namespace faultline::demo
