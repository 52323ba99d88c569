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
#include "observe/scrape_store.h"
#include "plan/plan.h"
#include "report/report.h"

namespace faultline {

// The rule that flags a phase whose figures show the client, not the target, was slow: its
// p99 send lateness is above kClientLagFloorMs and above kClientLagShare of its p99 latency.
// The floor keeps scheduler noise (a few ms on a busy machine) from raising the flag; the share
// keeps a lag that is small next to what the target took from raising it, since then the
// latencies still describe the target. Latency counts from the intended send time, so lateness
// is part of it: a flagged phase's latencies include faultline's own delay.
inline constexpr double kClientLagFloorMs = 10;
inline constexpr double kClientLagShare = 0.1;
bool is_client_lagging(const SendLateness& lateness, const LatencySummary& latency);

// Judges every assertion of the plan against `source`, in the plan's order.
std::vector<AssertionReport> judge_assertions(const Plan& plan, const judge::MetricSource& source);

// passed / failed / inconclusive from verdicts (any fail wins over inconclusive).
RunStatus status_of(const std::vector<AssertionReport>& assertions);

// Verdict tags coloured when `out` is a terminal (common/term_color.h).
void print_assertions(std::FILE* out, const std::vector<AssertionReport>& assertions);

// What to look at first when a run did not pass, in one line: the abort that fired, the
// environment error, or the first failed (else inconclusive) assertion with its observed
// values and source line. "" when there is nothing to look at.
std::string look_first_at(const RunReport& report);
std::string look_first_at(const std::vector<AssertionReport>& assertions);

// Fills the report's assertions (when `judge` is true), phases, routes, server figures,
// slowest requests, error signatures and hints. A report whose status is still kPassed takes
// the status of its verdicts.
void summarize_run(RunReport& report, const Plan& plan, const judge::MetricSource& source,
                   const observe::ClientStats& stats, bool judge);

// Lists each target's failed scrapes (first ScrapeFailureReport::kMaxListed, with the count)
// in report.scrape_failures, in the plan's target order; secrets in reasons are redacted.
void summarize_scrape_failures(RunReport& report, const Plan& plan,
                               const observe::ScrapeStore& scrapes);

// The human summary: phases table (with send lateness), a line naming phases where the client
// lagged, failed scrapes per target, assertion verdicts, result and artifact path.
void print_summary(std::FILE* out, const RunReport& report, const std::string& artifact);

}  // namespace faultline
