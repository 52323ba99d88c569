// Live progress of a run: one updating line on a terminal, a plain line every few seconds
// when stdout is not a terminal (CI logs), nothing with --quiet.
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include "common/units.h"

namespace faultline {

enum class ProgressMode { kAuto, kTerminal, kLines, kQuiet };

struct ProgressSnapshot {
  std::string phase;
  Duration elapsed{0}, total{0};
  double planned_rate = 0;           // requests/s the plan asks for now
  double achieved_rate = 0;          // arrivals/s over the last interval
  std::optional<double> p95_s;       // of the current phase so far
  std::optional<double> error_rate;  // of the current phase so far
  uint64_t in_flight = 0, dropped = 0, sent = 0;
};

class ProgressPrinter {
 public:
  ProgressPrinter(ProgressMode mode, std::FILE* out);
  void update(const ProgressSnapshot& s);  // rate-limited internally
  void finish();                           // ends the terminal line
  bool quiet() const { return mode_ == ProgressMode::kQuiet; }

 private:
  ProgressMode mode_;
  std::FILE* out_;
  Duration last_line_{-1000000000};
  bool drew_ = false;
};

}  // namespace faultline
