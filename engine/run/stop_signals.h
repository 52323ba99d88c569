// SIGINT/SIGTERM handling for a run: the first signal asks the run to stop (the runner then
// undoes faults, stops services and writes the artifact before exiting 130); a second one
// while cleanup runs is ignored so cleanup can finish. Installed for the lifetime of a
// StopSignals object; the previous handlers are restored afterwards.
#pragma once

#include <atomic>
#include <csignal>

namespace faultline {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // The signal that arrived (SIGINT or SIGTERM), or 0.
  int received() const;

 private:
  struct sigaction old_int_ {
  }, old_term_{};
};

}  // namespace faultline
