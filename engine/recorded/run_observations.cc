#include "recorded/run_observations.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/error.h"
#include "dsl/parser.h"
#include "dsl/vocabulary.h"
#include "judge/evaluator.h"
#include "observe/sample_log.h"
#include "recorded/bundle.h"

namespace faultline {

namespace {

// Answers nothing and remembers every window it was asked about.
class WindowRecorder : public judge::MetricSource {
 public:
  judge::Observed client(const judge::TimeWindow& w, const judge::ClientQuery&) const override {
    windows.insert({w.start.count(), w.end.count()});
    return {};
  }
  judge::Observed server(const judge::TimeWindow& w, const judge::ServerQuery&) const override {
    windows.insert({w.start.count(), w.end.count()});
    return {};
  }
  mutable std::set<std::pair<int64_t, int64_t>> windows;
};

observe::TimeWindow to_observe(const judge::TimeWindow& w) {
  return {w.start, w.end};
}

std::optional<double> finite(double v) {
  if (std::isnan(v)) return std::nullopt;
  return v;
}

}  // namespace

std::string window_key(const judge::TimeWindow& w) {
  return "window:" + std::to_string(w.start.count()) + "-" + std::to_string(w.end.count());
}

std::vector<judge::TimeWindow> judging_windows(const Plan& plan) {
  WindowRecorder recorder;
  // The same options as the final judging, so recovery buckets come out the same.
  const judge::JudgeOptions options = judge::judge_options(plan);
  for (const auto& s : plan.assertions) judge::evaluate(*s.parsed, plan.phases, recorder, options);
  // Live windows grow with time; the full window is what they converge to.
  for (const auto& s : plan.abort_if)
    judge::evaluate_abort_if(*s.parsed, plan.phases, plan.total, recorder, options);
  std::vector<judge::TimeWindow> out;
  for (const auto& [start, end] : recorder.windows) {
    judge::TimeWindow w{Duration{start}, Duration{end}, ""};
    w.label = window_key(w);
    out.push_back(w);
  }
  return out;
}

namespace {

// A list of metrics of interest keeps ALERTS too: it is recorded only when alerts are asserted
// (under kAlertsJob), and a list that names the services' metrics must not drop it.
std::vector<std::string> with_alerts(std::vector<std::string> names) {
  if (!names.empty()) names.push_back("ALERTS");
  return names;
}

}  // namespace

RunObservations::RunObservations(const Plan& plan, std::vector<judge::TimeWindow> extra_windows,
                                 std::vector<std::string> metrics_of_interest)
    : plan_(plan),
      scrapes_(observe::ScrapeStore::Options{with_alerts(std::move(metrics_of_interest)), 20000}) {
  // Whole phases and the whole run are answered from the per-phase stats; keep the rest.
  for (auto& w : extra_windows) {
    bool is_phase = w.start == Duration{0} && w.end == plan.total;
    for (const auto& p : plan.phases) is_phase |= w.start == p.start && w.end == p.end;
    if (!is_phase) extra_windows_.push_back(std::move(w));
  }
  for (const auto& r : plan.routes)
    if (!r.ack_id.empty()) ack_routes_.insert(r.name);
  facts_.no_history = "the verify hooks have not run";
}

void RunObservations::record(const observe::SampleRecord& sample) {
  std::lock_guard lock(mutex_);
  client_.record(sample);
  if (sample.status >= 200 && sample.status < 300 && sample.error_class.empty() &&
      ack_routes_.count(sample.route) > 0) {
    if (sample.ack_id.empty())
      ++ack_missing_;
    else
      acknowledged_.emplace_back(sample.seq, sample.ack_id);
  }
  const Duration t{sample.intended_us};
  for (const auto& w : extra_windows_)
    if (t >= w.start && t < w.end) client_.record_in(w.label, sample);
}

void RunObservations::scrape_done(const std::string& job, size_t tick_index,
                                  const std::vector<Duration>& ticks,
                                  std::optional<std::string> body, std::string error) {
  std::lock_guard lock(mutex_);
  auto& pending = ahead_[job];
  pending[tick_index] = {std::move(body), std::move(error)};
  size_t& next = next_tick_[job];
  // Store every consecutive result from the next expected tick on; the store needs order.
  while (!pending.empty() && pending.begin()->first == next) {
    auto& result = pending.begin()->second;
    if (result.body) {
      scrapes_.add_scrape_text(job, ticks[next], *result.body);
      if (scrape_log_) scrape_log_->append_scrape(job, ticks[next], *result.body);
    } else {
      scrapes_.add_failed_scrape(job, ticks[next], result.error);
      if (scrape_log_) scrape_log_->append_failure(job, ticks[next], result.error);
    }
    pending.erase(pending.begin());
    ++next;
  }
}

void RunObservations::record_scrapes_to(observe::ScrapeLogWriter* log) {
  std::lock_guard lock(mutex_);
  scrape_log_ = log;
}

void RunObservations::set_verify_outcomes(const std::vector<HookRecord>& verify_hooks) {
  judge::RunFacts facts;
  for (const auto& h : verify_hooks) facts.verify[h.name] = {h.ok, h.error, h.output};
  const HookSpec* source = plan_.hooks.history_source();
  std::lock_guard lock(mutex_);
  if (source == nullptr) {
    facts.no_history = "no verify hook gives applied_ids, so there is no id history";
  } else if (ack_routes_.empty()) {
    facts.no_history = "no route has ack_id, so no acknowledged ids were recorded";
  } else if (auto it = facts.verify.find(source->name); it == facts.verify.end()) {
    facts.no_history = "verify hook '" + source->name + "' did not run";
  } else if (!it->second.ok) {
    facts.no_history = "verify hook '" + source->name + "' failed: " + it->second.error;
  } else {
    std::vector<std::string> applied;
    std::string error;
    if (!judge::applied_ids_from_json(it->second.output, source->applied_ids, &applied, &error)) {
      facts.no_history = "verify hook '" + source->name + "': " + error;
    } else {
      facts.history = judge::compute_id_history(acknowledged_, applied);
      facts.history->source_hook = source->name;
      facts.history->ack_missing = ack_missing_;
    }
  }
  facts_ = std::move(facts);
}

void RunObservations::load_recorded_hooks(const std::string& bundle_dir) {
  const BundleLayout bundle{bundle_dir};
  std::vector<HookRecord> outcomes;
  for (const auto& h : plan_.hooks.verify) {
    std::string why;
    if (auto record = read_hook_record(bundle, h.name, &why)) {
      outcomes.push_back(std::move(*record));
    } else {
      HookRecord missing;
      missing.name = h.name;
      missing.error = why;
      outcomes.push_back(std::move(missing));
    }
  }
  set_verify_outcomes(outcomes);
}

judge::RunFacts RunObservations::run_facts() const {
  std::lock_guard lock(mutex_);
  return facts_;
}

judge::Observed RunObservations::run_fact(const dsl::RunFactQuery& query) const {
  std::lock_guard lock(mutex_);
  return judge::answer_run_fact(facts_, query);
}

std::string RecordedLogs::describe_cut() const {
  std::string out;
  if (samples_cut)
    out = "samples.csv.gz ends after " + std::to_string(samples) + " record" +
          (samples == 1 ? "" : "s");
  if (scrapes_cut)
    out += (out.empty() ? "scrapes.txt.gz ends after " : ", scrapes.txt.gz after ") +
           std::to_string(scrapes) + " scrape" + (scrapes == 1 ? "" : "s");
  return out;
}

RecordedLogs RunObservations::load_recorded_logs(const std::string& bundle_dir, bool scrapes) {
  const BundleLayout bundle{bundle_dir};
  RecordedLogs logs;
  try {
    observe::SampleLogReader samples(bundle.samples());
    observe::SampleRecord record;
    while (samples.next(record)) this->record(record);
    logs.samples = samples.records();
    logs.samples_cut = samples.truncated();
    if (!scrapes) return logs;
    std::lock_guard lock(mutex_);
    logs.scrapes = observe::load_scrape_log(bundle.scrape_log(), scrapes_, &logs.scrapes_cut);
  } catch (const observe::LogFileError& e) {
    // A damaged bundle is bad input, as a damaged artifact is: exit 2 (common/error.h).
    throw UsageError(std::string(e.what()) + ": the run's bundle is damaged");
  }
  return logs;
}

std::string RunObservations::load_recorded(const std::string& bundle_dir) {
  const RecordedLogs logs = load_recorded_logs(bundle_dir);
  if (!logs.cut()) return "";
  return "the run was cut short: " + logs.describe_cut() + "; judged on what was recorded";
}

observe::ClientSelection select_by_query(const judge::ClientQuery& query, const Plan& plan) {
  observe::ClientSelection sel;
  for (const auto& [key, value] : query.selectors) {
    if (key == "route") {
      sel.routes.push_back(value);
    } else if (key == "method") {
      for (const auto& r : plan.routes)
        if (r.method == value) sel.routes.push_back(r.name);
      if (sel.routes.empty()) sel.routes.push_back("(no route uses " + value + ")");
    } else if (key == "status" || key == "error") {
      sel.outcomes.push_back(observe::OutcomeSelector::parse(value));
    }
  }
  return sel;
}

observe::ClientSelection RunObservations::selection_for(const judge::TimeWindow& window,
                                                        const judge::ClientQuery& query,
                                                        std::string* problem) const {
  observe::ClientSelection sel;
  bool found = false;
  // Prepared windows first: a recovery bucket that starts with a phase ([P.start, P.start +
  // 1s)) would otherwise read as the live part of P and be answered with all of P.
  for (const auto& w : extra_windows_) {
    if (!found && w.start == window.start && w.end == window.end) {
      sel.phases.push_back(w.label);
      found = true;
    }
  }
  if (!found && window.start == Duration{0} && window.end >= plan_.total) {
    for (const auto& p : plan_.phases) sel.phases.push_back(p.name);
    found = true;
  }
  for (const auto& p : plan_.phases) {
    // A whole phase, or the live part of one (abort_if reads [start, now)).
    if (!found && window.start == p.start && window.end <= p.end && window.end > window.start) {
      sel.phases.push_back(p.name);
      found = true;
    }
  }
  if (!found) *problem = "window was not prepared for judging";
  observe::ClientSelection picked = select_by_query(query, plan_);
  sel.routes = std::move(picked.routes);
  sel.outcomes = std::move(picked.outcomes);
  return sel;
}

judge::Observed RunObservations::client(const judge::TimeWindow& window,
                                        const judge::ClientQuery& query) const {
  std::string problem;
  observe::ClientSelection sel = selection_for(window, query, &problem);
  judge::Observed out;
  if (!problem.empty()) {
    out.note = problem;
    return out;
  }
  std::lock_guard lock(mutex_);
  const std::string& m = query.metric;
  if (m == "error_rate" || m == "count" || m == "rps") {
    // The population is the route/method selection; status/error pick the numerator.
    std::vector<observe::OutcomeSelector> numerator = sel.outcomes;
    observe::ClientSelection population = sel;
    population.outcomes.clear();
    const uint64_t total = client_.count(population);
    out.sample_count = static_cast<int64_t>(total);
    if (m == "error_rate") {
      if (total == 0) {
        out.note = "no requests";
        return out;
      }
      out.value = client_.error_rate(population, numerator);
    } else if (m == "count") {
      out.value = static_cast<double>(client_.count(sel));
    } else {
      const observe::TimeWindow w = to_observe(window);
      out.value = w.seconds() > 0 ? client_.rps(sel, w) : 0.0;
    }
    return out;
  }
  const observe::LatencyHistogram h = client_.latency(sel);
  out.sample_count = static_cast<int64_t>(h.count());
  if (h.count() == 0) {
    out.note = "no requests";
    return out;
  }
  double us = 0;
  if (m == "max")
    us = static_cast<double>(h.max_us());
  else if (m == "mean")
    us = h.mean_us();
  else if (const auto level = dsl::quantile_level(m))
    us = h.quantile_us(*level);
  else {
    out.note = "unknown client metric " + m;
    return out;
  }
  out.value = us / 1e6;
  return out;
}

judge::Observed RunObservations::server(const judge::TimeWindow& window,
                                        const judge::ServerQuery& query) const {
  observe::SeriesSelector sel;
  sel.metric = query.metric_name;
  for (const auto& m : query.matchers) {
    observe::MatchOp op = observe::MatchOp::kEqual;
    if (m.op == "!=")
      op = observe::MatchOp::kNotEqual;
    else if (m.op == "=~")
      op = observe::MatchOp::kRegexMatch;
    else if (m.op == "!~")
      op = observe::MatchOp::kRegexNoMatch;
    sel.matchers.emplace_back(m.name, op, m.value);
  }
  const observe::TimeWindow w = to_observe(window);
  judge::Observed out;
  std::lock_guard lock(mutex_);
  const std::string& f = query.function;
  // Failed scrapes are named with their reason whether or not a value came out: without one
  // they are why; with one, the value rests on fewer scrapes than planned.
  auto describe_missing = [&](const observe::WindowValue& v) {
    if (v.failed_scrapes > 0) return v.failure_note();
    return "no matching series '" + query.metric_name + "' in the window";
  };
  if (const auto level = dsl::quantile_level(f)) {
    const observe::QuantileValue v = scrapes_.histogram_quantile(*level, sel, w);
    out.sample_count = static_cast<int64_t>(std::llround(v.observations));
    out.value = finite(v.value);
    out.failures = v.failure_note();
    if (!out.value)
      out.note = v.has_data() ? "histogram has no observations in the window" : describe_missing(v);
    else if (v.forced_monotonic)
      out.note = "buckets were not monotonic; fixed up as Prometheus does";
    return out;
  }
  observe::WindowValue v;
  if (f == "increase")
    v = scrapes_.increase(sel, w);
  else if (f == "rate")
    v = scrapes_.rate(sel, w);
  else if (f == "max")
    v = scrapes_.gauge(observe::GaugeFunction::kMax, sel, w);
  else if (f == "min")
    v = scrapes_.gauge(observe::GaugeFunction::kMin, sel, w);
  else if (f == "avg")
    v = scrapes_.gauge(observe::GaugeFunction::kAvg, sel, w);
  else if (f == "last")
    v = scrapes_.gauge(observe::GaugeFunction::kLast, sel, w);
  else {
    out.note = "unknown server function " + f;
    return out;
  }
  out.sample_count = static_cast<int64_t>(v.scrapes);
  out.value = finite(v.value);
  out.failures = v.failure_note();
  if (!out.value) out.note = describe_missing(v);
  return out;
}

judge::AlertReads RunObservations::alert(const judge::TimeWindow& window,
                                         const std::string& name) const {
  observe::SeriesSelector sel;
  sel.metric = "ALERTS";
  sel.matchers.emplace_back("job", observe::MatchOp::kEqual, kAlertsJob);
  sel.matchers.emplace_back("alertname", observe::MatchOp::kEqual, name);
  sel.matchers.emplace_back("alertstate", observe::MatchOp::kEqual, "firing");
  observe::WindowValue failed;
  std::lock_guard lock(mutex_);
  judge::AlertReads out;
  for (const auto& [at, v] : scrapes_.state_timeline(sel, to_observe(window), &failed))
    out.firing.emplace_back(at, v > 0);
  out.failures = failed.failure_note();
  if (out.firing.empty())
    out.note = scrapes_.scrape_count(kAlertsJob) == 0
                   ? "no alert state was recorded (it is read from Prometheus when the "
                     "environment observes through it)"
                   : "no read of the alerts in the window";
  return out;
}

observe::ClientStats RunObservations::client_stats() const {
  std::lock_guard lock(mutex_);
  return client_;
}

std::pair<std::optional<double>, std::optional<double>> RunObservations::live_phase(
    const std::string& phase) const {
  std::lock_guard lock(mutex_);
  observe::ClientSelection sel;
  sel.phases.push_back(phase);
  std::optional<double> p95, err;
  const auto h = client_.latency(sel);
  if (h.count() > 0) p95 = h.quantile_us(0.95) / 1e6;
  if (client_.count(sel) > 0) err = client_.error_rate(sel);
  return {p95, err};
}

}  // namespace faultline
