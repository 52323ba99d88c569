// The run's summary: verdicts for every assertion, per-phase and per-route traffic figures,
// server figures, the slowest requests, error signatures and hints, and the human-readable
// table printed at the end of a run. Pure bookkeeping over a MetricSource and ClientStats:
// `faultline run` calls it on live observations, `faultline judge` on a recorded run.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "judge/metric_source.h"
#include "observe/client_stats.h"
#include "plan/plan.h"
#include "report/report.h"

namespace faultline {

// Judges every assertion of the plan against `source`, in the plan's order.
std::vector<AssertionReport> judge_assertions(const Plan& plan, const judge::MetricSource& source);

// passed / failed / inconclusive from verdicts (any fail wins over inconclusive).
RunStatus status_of(const std::vector<AssertionReport>& assertions);

void print_assertions(std::FILE* out, const std::vector<AssertionReport>& assertions);

// Fills the report's assertions (when `judge` is true), phases, routes, server figures,
// slowest requests, error signatures and hints. A report whose status is still kPassed takes
// the status of its verdicts.
void summarize_run(RunReport& report, const Plan& plan, const judge::MetricSource& source,
                   const observe::ClientStats& stats, bool judge);

// The human summary: phases table, assertion verdicts, result and artifact path.
void print_summary(std::FILE* out, const RunReport& report, const std::string& artifact);

}  // namespace faultline
