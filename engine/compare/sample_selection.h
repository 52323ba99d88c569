// Which raw requests of a recorded run a client metric reads, selected exactly as the judge
// selects them (judge/metric_source.h, run/observations.cc), and one pass over the bundle's
// samples.csv.gz that fills a RunSample per selection for the bootstrap.
//
// The population of a selection, by metric:
//   p50..p999 max mean   sent requests of the window matching route/method and, when given,
//                        the status/error selectors; the items are their latencies
//   error_rate           sent requests matching route/method; flagged: those matching the
//                        status/error selectors (without any: 5xx or no response)
//   count rps            every planned request matching route/method, dropped ones included;
//                        flagged: sent and matching the status/error selectors. With the
//                        arrivals fixed by the plan, what varies is which were dropped or
//                        failed, so that is what is resampled.
// A request is in the window when its intended time is in [start, end).
#pragma once

#include <string>
#include <vector>

#include "compare/bootstrap.h"
#include "dsl/metric_query.h"
#include "judge/metric_source.h"
#include "observe/client_stats.h"
#include "plan/plan.h"

namespace faultline::compare {

struct SampleSelection {
  enum class Population { kLatency, kSent, kPlanned };
  judge::TimeWindow window;
  std::vector<std::string> routes;                 // empty: every route
  std::vector<observe::OutcomeSelector> outcomes;  // empty: see the header comment
  Population population = Population::kLatency;
  double scale = 1;  // rps: 1 / window seconds
};

// The selection of `query` (a client metric) over `window` in a run of `plan`. Throws
// std::invalid_argument for an unknown metric or selector value (the DSL checker rejects
// those first).
SampleSelection select_requests(const judge::TimeWindow& window, const dsl::ClientQuery& query,
                                const Plan& plan);

// Reads `samples_path` (a bundle's samples.csv.gz) once and returns one finished RunSample
// per selection, in order. `note` receives a remark when the log was cut short. Throws
// observe::SampleLogError naming the file.
std::vector<RunSample> collect_samples(const std::string& samples_path,
                                       const std::vector<SampleSelection>& selections,
                                       std::string* note);

}  // namespace faultline::compare
