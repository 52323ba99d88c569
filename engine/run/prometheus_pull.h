// PrometheusPull: server-side observations of a run read from a Prometheus server instead of
// scraped by faultline (an environment's `observe: {source: prometheus}`; spec/environment.h).
//
// What it produces is what direct scrapes produce: for every observed service and every scrape
// tick of the plan, either the service's series as a text exposition (observe/prometheus_api.h:
// exposition_at) or the reason there is none. The runner hands these to the recording, so the
// scrape store, the bundle's scrapes.txt.gz, snapshots, judging and `faultline judge` are the
// same code paths as with direct scrapes.
//
// Semantics: the value at tick T is the value Prometheus holds at plan time T (wall clock
// zero + T): the latest sample of each series at or before T, as any PromQL instant query sees
// it. It therefore trails the service by at most Prometheus' scrape interval. A tick at which
// Prometheus has no `up` sample for a service, or only up == 0, counts as a failed scrape with
// that reason.
//
// How: after the traffic, wait_caught_up() polls `timestamp(up{<match>})` until every service
// has a sample at or after the last tick (bounded by `observe.wait`: the services must still be
// running then, so the runner calls it before stopping them). pull() then reads the series of
// interest per service with range queries over the ticks on the scrape-interval grid, and
// instant queries for the others (phase edges and window ends between grid points).
//
// Thread-safety: none; one thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/units.h"
#include "net/http_call.h"
#include "observe/prometheus_api.h"
#include "plan/plan.h"
#include "spec/environment.h"

namespace faultline {

using HttpFunction = std::function<HttpResponse(const HttpRequest&)>;

// Receives one tick of one service: the exposition, or the reason (body empty).
using PulledScrape = std::function<void(const std::string& service, size_t tick_index,
                                        std::optional<std::string> body, std::string error)>;

// The alerts a plan's assertions read (`alert(NAME) ...`), sorted, unique.
std::vector<std::string> alerts_asserted(const Plan& plan);

class PrometheusPull {
 public:
  // `zero_unix_ms`: the wall-clock time of plan time 0, in Unix milliseconds.
  PrometheusPull(ObserveSource source, int64_t zero_unix_ms, HttpFunction http = http_call);

  // One query against the server: throws PrometheusApiError naming the server and what failed
  // (unreachable, an error answer).
  observe::PromAnswer instant(const std::string& expr, int64_t time_ms) const;
  observe::PromAnswer range(const std::string& expr, int64_t start_ms, int64_t end_ms,
                            int64_t step_ms) const;

  // Before the traffic: checks the server answers, has an `up` series for each service and an
  // alerting rule for each of `alerts`, so a wrong URL, selector or alert name fails the run
  // before anything is sent. The first problem, in words that name it, or nullopt.
  // `patience`: how long to keep asking while a problem lasts (a Prometheus just started
  // answers late and has not scraped yet); 0 asks once.
  std::optional<std::string> preflight(const std::vector<std::string>& services,
                                       const std::vector<std::string>& alerts = {},
                                       Duration patience = Duration{0}) const;
  // GET /api/v1/rules: the alerting rules. Throws PrometheusApiError.
  std::vector<observe::PromAlertRule> alerting_rules() const;

  struct CatchUp {
    // Per service: the time of its newest `up` sample, Unix ms (-1: none). Ticks after it
    // fail in pull() instead of reading older samples through PromQL's lookback.
    std::map<std::string, int64_t> sampled_until_ms;
    std::vector<std::string> gave_up;  // "api: ... when faultline stopped waiting ..."
  };
  // Waits (polling, at most `source.wait`) until Prometheus has sampled every service at or
  // after plan time `last_tick`.
  CatchUp wait_caught_up(const std::vector<std::string>& services, Duration last_tick) const;

  // Reads every tick of `ticks` (plan times; only those <= `until`) for each service, and
  // hands the results to `sink` tick by tick, in tick order. `metric_names`: the families of
  // interest (empty: every series of the service). `step`: the scrape interval, the grid of
  // the range queries. `caught_up` (optional): ticks after a service's newest sample fail.
  void pull(const std::vector<std::string>& services, const std::vector<std::string>& metric_names,
            const std::vector<Duration>& ticks, Duration until, Duration step,
            const PulledScrape& sink, const CatchUp* caught_up = nullptr) const;

  // Both steps for a run of `plan` that reached plan time `reached`: waits for Prometheus to
  // catch up with the last tick of `ticks` at or before `reached`, then pulls `services` for
  // every tick up to it. When the plan asserts alerts, also waits for the rules to have been
  // evaluated past that tick and pulls their ALERTS series as the target kAlertsJob
  // (recorded/run_observations.h): a tick read is a success even with no series (no alert
  // pending or firing then). Returns what it gave up waiting for.
  std::vector<std::string> read_run(const Plan& plan, const std::vector<std::string>& services,
                                    const std::vector<Duration>& ticks, Duration reached,
                                    const PulledScrape& sink) const;

  // `{<matchers for service>}` plus, with names, `__name__=~"(a|b)(_bucket|_sum|_count)?"`.
  std::string selector(const std::string& service,
                       const std::vector<std::string>& metric_names) const;

 private:
  observe::PromAnswer post(const std::string& path, const std::string& form) const;
  HttpResponse get(const std::string& path) const;
  std::string endpoint(const std::string& path) const;  // the server's URL + path
  std::optional<std::string> check_once(const std::vector<std::string>& services,
                                        const std::vector<std::string>& alerts) const;
  // Reads `expr` at the ticks of `order` (grid ones by range queries); each series with all
  // its points in time order. Throws PrometheusApiError.
  std::vector<observe::PromSeries> read_ticks(const std::string& expr,
                                              const std::vector<Duration>& ticks,
                                              const std::vector<size_t>& grid,
                                              const std::vector<size_t>& off_grid,
                                              int64_t step_ms) const;
  // Pulls ALERTS for `alerts` into kAlertsJob; what it gave up waiting for, if anything.
  std::optional<std::string> pull_alerts(const std::vector<std::string>& alerts,
                                         const std::vector<Duration>& ticks, Duration last_tick,
                                         Duration step, const PulledScrape& sink) const;
  int64_t wall_ms(Duration plan_time) const;

  ObserveSource source_;
  int64_t zero_ms_;
  HttpFunction http_;
};

}  // namespace faultline
