#include "resilience/request_deadline.h"

#include <charconv>
#include <string>

namespace faultline::demo {

std::optional<Response> read_request_deadline(const Request& request, DeadlineClock::time_point now,
                                              std::optional<DeadlineClock::time_point>* deadline) {
  deadline->reset();
  const std::string value = request.header(kDeadlineHeader);
  if (value.empty()) return std::nullopt;
  int64_t ms = -1;
  const auto* end = value.data() + value.size();
  const auto res = std::from_chars(value.data(), end, ms);
  if (res.ec != std::errc() || res.ptr != end || ms < 0 || ms > kMaxDeadlineMs)
    return problem_response(request, 400, "bad-deadline", "Bad Request",
                            std::string(kDeadlineHeader) +
                                " is the caller's remaining time in whole milliseconds (0.." +
                                std::to_string(kMaxDeadlineMs) + "), got '" + value + "'",
                            {{"field", std::string(kDeadlineHeader)}});
  *deadline = now + std::chrono::milliseconds(ms);
  return std::nullopt;
}

Response deadline_exceeded_response(const Request& request, ServiceMetrics& metrics,
                                    std::string_view stage) {
  metrics.deadline_abandoned.with({std::string(stage)}).Increment();
  return problem_response(request, 504, "deadline-exceeded", "Gateway Timeout",
                          "the caller's deadline (" + std::string(kDeadlineHeader) +
                              ") passed; the work was abandoned at stage '" + std::string(stage) +
                              "'",
                          {{"stage", std::string(stage)}});
}

}  // namespace faultline::demo
