#include "compare/sample_selection.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "observe/sample_log.h"
#include "recorded/run_observations.h"

namespace faultline::compare {

namespace {

bool any_matches(const std::vector<observe::OutcomeSelector>& outcomes,
                 const std::pair<int, std::string_view>& outcome) {
  return std::any_of(outcomes.begin(), outcomes.end(), [&](const observe::OutcomeSelector& o) {
    return o.matches(outcome.first, outcome.second);
  });
}

// Adds `s` to `out` when `sel` selects it.
void offer(const SampleSelection& sel, const observe::SampleRecord& s, RunSample& out) {
  const Duration t{s.intended_us};
  if (t < sel.window.start || t >= sel.window.end) return;
  if (!sel.routes.empty() &&
      std::find(sel.routes.begin(), sel.routes.end(), s.route) == sel.routes.end())
    return;
  using P = SampleSelection::Population;
  // Aborted by faultline's own stop: like a dropped one, planned but no outcome of the target
  // (the judge's ClientStats counts it apart too).
  if (s.dropped() || s.aborted()) {
    if (sel.population == P::kPlanned) out.add(0, false);
    return;
  }
  const auto outcome = observe::outcome_of(s);
  switch (sel.population) {
    case P::kLatency:
      if (sel.outcomes.empty() || any_matches(sel.outcomes, outcome)) out.add(s.latency_us, false);
      return;
    case P::kSent: {
      static const std::vector<observe::OutcomeSelector> kErrors = {
          observe::OutcomeSelector::parse("error")};
      out.add(s.latency_us, any_matches(sel.outcomes.empty() ? kErrors : sel.outcomes, outcome));
      return;
    }
    case P::kPlanned:
      out.add(s.latency_us, sel.outcomes.empty() || any_matches(sel.outcomes, outcome));
      return;
  }
}

}  // namespace

SampleSelection select_requests(const judge::TimeWindow& window, const dsl::ClientQuery& query,
                                const Plan& plan) {
  SampleSelection sel;
  sel.window = window;
  const std::string& m = query.metric;
  if (m == "error_rate") {
    sel.population = SampleSelection::Population::kSent;
  } else if (m == "count" || m == "rps") {
    sel.population = SampleSelection::Population::kPlanned;
    const double seconds = std::chrono::duration<double>(window.end - window.start).count();
    if (m == "rps" && seconds > 0) sel.scale = 1 / seconds;
  } else if (!statistic_for_metric(m)) {
    throw std::invalid_argument("unknown client metric '" + m + "'");
  }
  observe::ClientSelection picked = faultline::select_by_query(query, plan);
  sel.routes = std::move(picked.routes);
  sel.outcomes = std::move(picked.outcomes);
  return sel;
}

std::vector<RunSample> collect_samples(const std::string& samples_path,
                                       const std::vector<SampleSelection>& selections,
                                       std::string* note) {
  std::vector<RunSample> out(selections.size());
  for (size_t i = 0; i < selections.size(); ++i) out[i].scale = selections[i].scale;
  observe::SampleLogReader reader(samples_path);
  observe::SampleRecord record;
  while (reader.next(record))
    for (size_t i = 0; i < selections.size(); ++i) offer(selections[i], record, out[i]);
  if (note != nullptr && reader.truncated())
    *note = samples_path + " was cut short after " + std::to_string(reader.records()) +
            " records (the run was killed?)";
  for (auto& sample : out) sample.finish();
  return out;
}

}  // namespace faultline::compare
