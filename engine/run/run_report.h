// The run's own entries in its RunReport: meta from the plan and options, the services it
// used and the fault events. The summary of what it observed is report/summary.h.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "faults/fault_driver.h"
#include "plan/plan.h"
#include "report/report.h"
#include "run/runner.h"
#include "run/service_launcher.h"

namespace faultline {

// A report with the run's meta filled in from the plan and the options.
RunReport start_report(const Plan& plan, const std::string& spec_path, const RunOptions& options,
                       const std::string& stem);

void record_services(RunReport& report, const ServiceLauncher& launcher, const std::string& bundle);
void record_fault_events(RunReport& report, const std::vector<FaultEvent>& events);

}  // namespace faultline
