// Readiness: a background thread probes each dependency every `interval` (250 ms by default).
// The service is ready while every *required* dependency's last probe succeeded; /readyz then
// answers 200, else 503. Optional dependencies are probed and exported (dependency_up) but do
// not affect readiness. Every change of readiness is logged once.
//
// Thread-safety: add dependencies before start(); the rest may be called from any thread.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/units.h"
#include "core/stop_signal.h"
#include "metrics/service_metrics.h"

namespace faultline::demo {

class ReadinessMonitor {
 public:
  // A probe returns "" when the dependency is usable, else why not. It must be bounded in time.
  using Probe = std::function<std::string()>;

  ReadinessMonitor(ServiceMetrics& metrics, const StopSignal& stop, Duration interval);
  ~ReadinessMonitor();

  void add_dependency(std::string name, bool required, Probe probe);

  // One probe round on the calling thread (done once before the service says it is listening).
  void check_now();
  void start();
  void stop();

  bool ready() const;
  // {"ready":true,"dependencies":{"redis":{"required":true,"up":true,"error":null}}}
  std::string status_json() const;

 private:
  struct Dependency {
    std::string name;
    bool required = true;
    Probe probe;
    bool up = false;
    bool checked = false;
    std::string error;
  };

  ServiceMetrics& metrics_;
  const StopSignal& stop_;
  Duration interval_;
  mutable std::mutex mu_;
  std::vector<Dependency> deps_;
  bool ready_ = false;
  bool announced_ = false;  // the first readiness state has been logged
  std::thread thread_;
};

}  // namespace faultline::demo
