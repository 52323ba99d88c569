#include "run/prometheus_pull.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>

#include "common/units.h"
#include "recorded/run_observations.h"

namespace faultline {

namespace {

using observe::PromAnswer;
using observe::PrometheusApiError;
using observe::PromSeries;

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t to_ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Adds the points of `answer` to the series in `into` (keyed by name and labels).
void merge_series(PromAnswer&& answer, std::map<std::string, PromSeries>& into) {
  std::string key;
  for (auto& s : answer.series) {
    observe::series_key(s.name, s.labels, &key);
    auto [it, added] = into.try_emplace(key);
    if (added) {
      it->second = std::move(s);
    } else {
      auto& points = it->second.points;
      points.insert(points.end(), s.points.begin(), s.points.end());
    }
  }
}

// The indices of the ticks up to `until`: those on the step grid (read by range queries) and
// the others (phase edges and window ends between grid points, read one by one).
void split_ticks(const std::vector<Duration>& ticks, Duration until, int64_t step_ms,
                 std::vector<size_t>* grid, std::vector<size_t>* off_grid) {
  for (size_t i = 0; i < ticks.size(); ++i) {
    if (ticks[i] > until) continue;
    const bool on_grid =
        ticks[i] % std::chrono::milliseconds(1) == Duration{0} && to_ms(ticks[i]) % step_ms == 0;
    (on_grid ? grid : off_grid)->push_back(i);
  }
}

// A regex alternative of literal names, for a PromQL =~ matcher inside double quotes: RE2
// metacharacters are escaped, and so are the quote and backslash for PromQL's string.
std::string literal_alternatives(const std::vector<std::string>& names) {
  std::string out = "(";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += '|';
    for (char c : names[i]) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
          static_cast<unsigned char>(c) >= 0x80) {  // UTF-8 bytes are literal in RE2
        out += c;
      } else if (c == '"') {
        out += "\\\"";  // PromQL's string reads \" as the quote, which RE2 takes literally
      } else {
        out += "\\\\";  // PromQL's string reads \\ as one backslash: RE2 sees \c, a literal c
        out += c;
      }
    }
  }
  return out + ")";
}

void alerts_in(const dsl::Condition& c, std::set<std::string>& out) {
  if (c.kind == dsl::Condition::Kind::kAlert) out.insert(c.alert);
  for (const auto& o : c.operands) alerts_in(o, out);
}

}  // namespace

std::vector<std::string> alerts_asserted(const Plan& plan) {
  std::set<std::string> names;
  for (const auto& a : plan.assertions)
    if (a.parsed && a.parsed->condition) alerts_in(*a.parsed->condition, names);
  return {names.begin(), names.end()};
}

PrometheusPull::PrometheusPull(ObserveSource source, int64_t zero_unix_ms, HttpFunction http)
    : source_(std::move(source)), zero_ms_(zero_unix_ms), http_(std::move(http)) {}

int64_t PrometheusPull::wall_ms(Duration plan_time) const {
  return zero_ms_ + to_ms(plan_time);
}

std::string PrometheusPull::endpoint(const std::string& path) const {
  std::string base = source_.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + path;
}

PromAnswer PrometheusPull::post(const std::string& path, const std::string& form) const {
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint(path);
  req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  req.body = form;
  req.timeout = std::chrono::seconds(10);
  req.max_body_bytes = 256u << 20;  // a long range over many series
  const HttpResponse r = http_(req);
  if (!r.error.empty())
    throw PrometheusApiError("Prometheus at " + source_.url + " did not answer: " + r.error);
  try {
    return observe::parse_prometheus_answer(r.body, r.status);
  } catch (const PrometheusApiError& e) {
    throw PrometheusApiError("Prometheus at " + source_.url + ": " + e.what());
  }
}

HttpResponse PrometheusPull::get(const std::string& path) const {
  HttpRequest req;
  req.url = endpoint(path);
  req.timeout = std::chrono::seconds(10);
  HttpResponse r = http_(req);
  if (!r.error.empty())
    throw PrometheusApiError("Prometheus at " + source_.url + " did not answer: " + r.error);
  return r;
}

std::vector<observe::PromAlertRule> PrometheusPull::alerting_rules() const {
  const HttpResponse r = get("/api/v1/rules?type=alert");
  try {
    return observe::parse_alerting_rules(r.body, r.status);
  } catch (const PrometheusApiError& e) {
    throw PrometheusApiError("Prometheus at " + source_.url + ": " + e.what());
  }
}

PromAnswer PrometheusPull::instant(const std::string& expr, int64_t time_ms) const {
  return post("/api/v1/query", observe::instant_query_form(expr, time_ms));
}

PromAnswer PrometheusPull::range(const std::string& expr, int64_t start_ms, int64_t end_ms,
                                 int64_t step_ms) const {
  return post("/api/v1/query_range", observe::range_query_form(expr, start_ms, end_ms, step_ms));
}

std::string PrometheusPull::selector(const std::string& service,
                                     const std::vector<std::string>& metric_names) const {
  std::string sel = "{" + source_.matchers_for(service);
  if (!metric_names.empty()) {
    // Metric names are [a-zA-Z0-9_:], so they need no regex escaping.
    sel += ",__name__=~\"(";
    for (size_t i = 0; i < metric_names.size(); ++i) sel += (i ? "|" : "") + metric_names[i];
    sel += ")(_bucket|_sum|_count)?\"";
  }
  return sel + "}";
}

std::optional<std::string> PrometheusPull::preflight(const std::vector<std::string>& services,
                                                     const std::vector<std::string>& alerts,
                                                     Duration patience) const {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    auto problem = check_once(services, alerts);
    if (!problem || std::chrono::steady_clock::now() >= deadline) return problem;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

std::optional<std::string> PrometheusPull::check_once(
    const std::vector<std::string>& services, const std::vector<std::string>& alerts) const {
  if (!alerts.empty()) {
    std::vector<observe::PromAlertRule> rules;
    try {
      rules = alerting_rules();
    } catch (const PrometheusApiError& e) {
      return std::string(e.what()) + " (reading its alerting rules)";
    }
    for (const auto& alert : alerts) {
      if (std::any_of(rules.begin(), rules.end(),
                      [&](const observe::PromAlertRule& r) { return r.name == alert; }))
        continue;
      std::string known;
      for (const auto& r : rules)
        if (known.find(" " + r.name + ",") == std::string::npos) known += " " + r.name + ",";
      if (!known.empty()) known.pop_back();
      return "alert(" + alert + ") is asserted, but Prometheus at " + source_.url +
             " has no alerting rule of that name (" +
             (known.empty() ? std::string("it has none: is rule_files set?") : "it has" + known) +
             ")";
    }
  }
  for (const auto& service : services) {
    const std::string up = "up{" + source_.matchers_for(service) + "}";
    try {
      if (instant("count(" + up + ")", now_unix_ms()).series.empty())
        return "Prometheus at " + source_.url + " has no series " + up + ": it does not scrape " +
               service + " under that selector (see observe.match in the environment)";
    } catch (const PrometheusApiError& e) {
      return std::string(e.what()) + " (checking " + up + ")";
    }
  }
  return std::nullopt;
}

PrometheusPull::CatchUp PrometheusPull::wait_caught_up(const std::vector<std::string>& services,
                                                       Duration last_tick) const {
  const int64_t need_ms = wall_ms(last_tick);
  const auto deadline = std::chrono::steady_clock::now() + source_.wait;
  CatchUp out;
  for (const auto& service : services) {
    const std::string expr = "max(timestamp(up{" + source_.matchers_for(service) + "}))";
    int64_t seen_ms = -1;
    std::string error;
    for (;;) {
      try {
        const PromAnswer a = instant(expr, now_unix_ms());
        if (!a.series.empty() && !a.series[0].points.empty())
          seen_ms = std::llround(a.series[0].points[0].value * 1000.0);
        error.clear();
      } catch (const PrometheusApiError& e) {
        error = e.what();
      }
      if (seen_ms >= need_ms || std::chrono::steady_clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    out.sampled_until_ms[service] = seen_ms;
    if (seen_ms >= need_ms) continue;
    std::string why = service + ": ";
    if (!error.empty())
      why += error;
    else if (seen_ms < 0)
      why += "Prometheus has no sample of its up series";
    else
      why += "Prometheus had sampled it only up to plan time " +
             format_duration(std::chrono::milliseconds(seen_ms - zero_ms_)) + " of " +
             format_duration(last_tick);
    out.gave_up.push_back(why + " when faultline stopped waiting (observe.wait " +
                          format_duration(source_.wait) + ")");
  }
  return out;
}

std::vector<PromSeries> PrometheusPull::read_ticks(const std::string& expr,
                                                   const std::vector<Duration>& ticks,
                                                   const std::vector<size_t>& grid,
                                                   const std::vector<size_t>& off_grid,
                                                   int64_t step_ms) const {
  std::map<std::string, PromSeries> series;
  // Range queries over the grid, in chunks Prometheus accepts.
  for (size_t from = 0; from < grid.size();) {
    const int64_t start = to_ms(ticks[grid[from]]);
    size_t to = from;
    while (to + 1 < grid.size() &&
           (to_ms(ticks[grid[to + 1]]) - start) / step_ms < observe::kMaxRangePoints)
      ++to;
    merge_series(range(expr, zero_ms_ + start, zero_ms_ + to_ms(ticks[grid[to]]), step_ms), series);
    from = to + 1;
  }
  for (size_t i : off_grid) merge_series(instant(expr, wall_ms(ticks[i])), series);
  std::vector<PromSeries> out;
  for (auto& [key, s] : series) {
    std::sort(
        s.points.begin(), s.points.end(),
        [](const observe::PromPoint& a, const observe::PromPoint& b) { return a.t_ms < b.t_ms; });
    out.push_back(std::move(s));
  }
  return out;
}

void PrometheusPull::pull(const std::vector<std::string>& services,
                          const std::vector<std::string>& metric_names,
                          const std::vector<Duration>& ticks, Duration until, Duration step,
                          const PulledScrape& sink, const CatchUp* caught_up) const {
  const int64_t step_ms = std::max<int64_t>(1, to_ms(step));
  std::vector<size_t> grid, off_grid;
  split_ticks(ticks, until, step_ms, &grid, &off_grid);
  for (const auto& service : services) {
    const std::string series_expr = selector(service, metric_names);
    const std::string up_expr = "up{" + source_.matchers_for(service) + "}";
    std::vector<PromSeries> all, ups;
    std::string failure;  // a query that failed: every tick of the service fails with it
    try {
      all = read_ticks(series_expr, ticks, grid, off_grid, step_ms);
      ups = read_ticks(up_expr, ticks, grid, off_grid, step_ms);
    } catch (const PrometheusApiError& e) {
      failure = e.what();
    }
    std::vector<size_t> order(grid);
    order.insert(order.end(), off_grid.begin(), off_grid.end());
    std::sort(order.begin(), order.end());
    int64_t sampled_until = INT64_MAX;
    if (caught_up)
      if (auto it = caught_up->sampled_until_ms.find(service);
          it != caught_up->sampled_until_ms.end())
        sampled_until = it->second;
    for (size_t i : order) {
      if (!failure.empty()) {
        sink(service, i, std::nullopt, failure);
        continue;
      }
      const int64_t t = wall_ms(ticks[i]);
      if (t > sampled_until) {
        sink(service, i, std::nullopt,
             "Prometheus had not sampled it this late when faultline stopped waiting");
        continue;
      }
      bool any_up = false, any_sample = false;
      for (const auto& s : ups) {
        auto p =
            std::lower_bound(s.points.begin(), s.points.end(), t,
                             [](const observe::PromPoint& x, int64_t at) { return x.t_ms < at; });
        if (p == s.points.end() || p->t_ms != t) continue;
        any_sample = true;
        any_up |= p->value >= 1;
      }
      if (!any_sample)
        sink(service, i, std::nullopt, "Prometheus has no sample of " + up_expr + " then");
      else if (!any_up)
        sink(service, i, std::nullopt,
             "Prometheus could not scrape it then (" + up_expr + " == 0)");
      else
        sink(service, i, observe::exposition_at(all, t), "");
    }
  }
}

std::vector<std::string> PrometheusPull::read_run(const Plan& plan,
                                                  const std::vector<std::string>& services,
                                                  const std::vector<Duration>& ticks,
                                                  Duration reached,
                                                  const PulledScrape& sink) const {
  auto last = std::upper_bound(ticks.begin(), ticks.end(), std::min(reached, plan.total));
  const auto alerts = alerts_asserted(plan);
  if ((services.empty() && alerts.empty()) || last == ticks.begin()) return {};
  const Duration last_tick = *std::prev(last);
  CatchUp caught_up = wait_caught_up(services, last_tick);
  pull(services, plan.metrics_of_interest, ticks, last_tick, plan.scrape_interval, sink,
       &caught_up);
  if (!alerts.empty())
    if (auto why = pull_alerts(alerts, ticks, last_tick, plan.scrape_interval, sink))
      caught_up.gave_up.push_back(std::move(*why));
  return std::move(caught_up.gave_up);
}

std::optional<std::string> PrometheusPull::pull_alerts(const std::vector<std::string>& alerts,
                                                       const std::vector<Duration>& ticks,
                                                       Duration last_tick, Duration step,
                                                       const PulledScrape& sink) const {
  // The rules' groups evaluate on their own clock: wait until each group holding an asserted
  // alert has been evaluated at or after the last tick, or the wait runs out.
  const int64_t need_ms = wall_ms(last_tick);
  const auto deadline = std::chrono::steady_clock::now() + source_.wait;
  int64_t evaluated_ms = -1;
  std::string error;
  for (;;) {
    try {
      int64_t oldest = INT64_MAX;
      for (const auto& rule : alerting_rules())
        if (std::find(alerts.begin(), alerts.end(), rule.name) != alerts.end())
          oldest = std::min(oldest, rule.last_evaluation_ms);
      evaluated_ms = oldest == INT64_MAX ? -1 : oldest;
      error.clear();
    } catch (const PrometheusApiError& e) {
      error = e.what();
    }
    if (evaluated_ms >= need_ms || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  std::optional<std::string> gave_up;
  if (evaluated_ms < need_ms)
    gave_up = std::string(kAlertsJob) + ": " +
              (!error.empty() ? error
               : evaluated_ms < 0
                   ? std::string("Prometheus has not evaluated the asserted alerts' rules")
                   : "Prometheus had evaluated the alerting rules only up to plan time " +
                         format_duration(std::chrono::milliseconds(evaluated_ms - zero_ms_))) +
              " when faultline stopped waiting (observe.wait " + format_duration(source_.wait) +
              ")";

  const int64_t step_ms = std::max<int64_t>(1, to_ms(step));
  std::vector<size_t> grid, off_grid, order;
  split_ticks(ticks, last_tick, step_ms, &grid, &off_grid);
  order = grid;
  order.insert(order.end(), off_grid.begin(), off_grid.end());
  std::sort(order.begin(), order.end());
  std::vector<PromSeries> series;
  std::string failure;
  try {
    series = read_ticks("ALERTS{alertname=~\"" + literal_alternatives(alerts) + "\"}", ticks, grid,
                        off_grid, step_ms);
  } catch (const PrometheusApiError& e) {
    failure = e.what();
  }
  for (size_t i : order) {
    if (!failure.empty())
      sink(kAlertsJob, i, std::nullopt, failure);
    else if (wall_ms(ticks[i]) > evaluated_ms)
      sink(kAlertsJob, i, std::nullopt,
           "Prometheus had not evaluated the alerting rules this late when faultline stopped "
           "waiting");
    else
      sink(kAlertsJob, i, observe::exposition_at(series, wall_ms(ticks[i])), "");
  }
  return gave_up;
}

}  // namespace faultline
