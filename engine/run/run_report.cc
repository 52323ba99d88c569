#include "run/run_report.h"

#include <unistd.h>

#include <filesystem>

#include "report/redact.h"

namespace faultline {

namespace {

namespace fs = std::filesystem;

}  // namespace

RunReport start_report(const Plan& plan, const std::string& spec_path, const RunOptions& options,
                       const std::string& stem) {
  RunReport r;
  r.scenario = plan.scenario_name;
  r.description = plan.description;
  r.spec_path = spec_path;
  r.tag = options.tag;
  r.plan_hash = plan.plan_hash;
  r.command_line = options.command_line;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  r.host = host;
  r.seed = plan.seed;
  r.base_rate = plan.base_rate;
  r.planned_duration = plan.total;
  r.overrides = options.override_text;
  r.bundle_dir = stem;
  return r;
}

void record_services(RunReport& report, const ServiceLauncher& launcher,
                     const std::string& bundle) {
  // started(): the services are stopped by the time the report is written.
  for (const auto& s : launcher.started()) {
    ServiceRecord rec;
    rec.name = s.name;
    rec.url = s.url;
    rec.started_here = s.started_here;
    rec.pid = s.pid;
    if (!s.log_path.empty()) rec.log = fs::relative(s.log_path, bundle).string();
    report.services.push_back(rec);
  }
}

void record_fault_events(RunReport& report, const std::vector<FaultEvent>& events) {
  for (const auto& e : events)
    report.fault_events.push_back({e.at, e.phase, e.kind, e.target, e.action, e.state_json, e.ok,
                                   e.status, redact_secrets(e.error), e.call_latency,
                                   e.ready_after});
}

}  // namespace faultline
