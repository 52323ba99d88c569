// Turning what a run observed into its RunReport and its terminal summary. Split from the
// runner so the orchestration stays readable; these functions do the bookkeeping.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "judge/metric_source.h"
#include "plan/plan.h"
#include "report/report.h"
#include "run/fault_driver.h"
#include "run/observations.h"
#include "run/runner.h"
#include "run/service_launcher.h"
#include "spec/scenario.h"

namespace faultline {

// The plan as the bundle keeps it (pretty JSON with its hash).
std::string plan_to_json_for_bundle(const Plan& plan);

// A report with the run's meta filled in from the plan and the options.
RunReport start_report(const Plan& plan, const std::string& spec_path, const RunOptions& options,
                       const std::string& stem);

void record_services(RunReport& report, const ServiceLauncher& launcher, const std::string& bundle);
void record_fault_events(RunReport& report, const std::vector<FaultEvent>& events);

// Saves a raw /metrics body at a phase boundary: <bundle>/scrapes/<job>-<plan time>.prom.
void save_scrape_snapshot(const std::string& bundle, const std::string& job, Duration at,
                          const std::string& body);

// Judges every assertion (unless the environment failed before traffic), summarises phases,
// routes and server figures, the slowest requests, error signatures and hints. Sets the
// status to failed/inconclusive when it was still "passed".
void judge_and_summarize(RunReport& report, const Plan& plan, const RunObservations& obs,
                         const std::vector<judge::TimeWindow>& windows, bool environment_failed);

// Judges every assertion of the plan against `source`.
std::vector<AssertionReport> judge_assertions(const Plan& plan, const judge::MetricSource& source);
// passed / failed / inconclusive from verdicts (any fail wins over inconclusive).
RunStatus status_of(const std::vector<AssertionReport>& assertions);
void print_assertions(std::FILE* out, const std::vector<AssertionReport>& assertions);

// Lists the bundle's files (relative to the bundle) into the report.
void list_bundle(RunReport& report, const std::string& bundle);

// The human summary: phases table, assertion verdicts, artifact path.
void print_summary(std::FILE* out, const RunReport& report, const std::string& artifact);

}  // namespace faultline
