#include "report/html_report.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>

#include "common/error.h"
#include "common/file_io.h"
#include "common/json_out.h"
#include "common/json_parse.h"
#include "observe/metrics_text.h"
#include "observe/sample_log.h"
#include "observe/scrape_log.h"
#include "observe/scrape_store.h"
#include "report/svg_chart.h"

namespace faultline::html {

namespace fs = std::filesystem;
using Json = rapidjson::Value;

ClientBins::ClientBins(Duration total, size_t max_bins) {
  const int64_t total_us = std::max<int64_t>(total.count(), 1);
  // Whole seconds, so bins line up with the phases' usual whole-second edges.
  const int64_t min_width_us = (total_us + static_cast<int64_t>(max_bins) - 1) /
                               static_cast<int64_t>(std::max<size_t>(max_bins, 1));
  const int64_t width_s = std::max<int64_t>(1, (min_width_us + 999'999) / 1'000'000);
  width_ = Duration(width_s * 1'000'000);
  bins_.resize(static_cast<size_t>((total_us + width_.count() - 1) / width_.count()));
}

std::string error_class_of(const observe::SampleRecord& s) {
  if (!s.error_class.empty()) return s.error_class;
  if (s.status >= 500) return "5xx";
  if (s.status >= 400) return "4xx";
  return "";
}

void ClientBins::add(const observe::SampleRecord& s) {
  const int64_t i = std::clamp<int64_t>(s.intended_us / width_.count(), 0,
                                        static_cast<int64_t>(bins_.size()) - 1);
  Bin& b = bins_[static_cast<size_t>(i)];
  const std::string err = error_class_of(s);
  if (!err.empty()) ++b.errors[err];
  if (s.dropped() || s.aborted()) return;
  b.latency.record(s.latency_us);
  if (s.status > 0) ++b.completed;
}

std::string html_path_for(const std::string& artifact_path) {
  std::string p = artifact_path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p.size() > 5 && p.compare(p.size() - 5, 5, ".json") == 0) p.resize(p.size() - 5);
  return p + ".html";
}

namespace {

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd",
                                    "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};

std::string str(const Json& o, const char* k) {
  if (!o.IsObject()) return "";
  const auto it = o.FindMember(k);
  if (it == o.MemberEnd()) return "";
  if (it->value.IsString()) return it->value.GetString();
  if (it->value.IsBool()) return it->value.GetBool() ? "true" : "false";
  if (it->value.IsInt64()) return std::to_string(it->value.GetInt64());
  if (it->value.IsUint64()) return std::to_string(it->value.GetUint64());
  return "";
}

double number(const Json& o, const char* k) {
  if (!o.IsObject()) return std::numeric_limits<double>::quiet_NaN();
  const auto it = o.FindMember(k);
  if (it == o.MemberEnd() || !it->value.IsNumber()) return std::numeric_limits<double>::quiet_NaN();
  return it->value.GetDouble();
}

const Json& member(const Json& o, const char* k) {
  static const Json kNull;
  if (!o.IsObject()) return kNull;
  const auto it = o.FindMember(k);
  return it == o.MemberEnd() ? kNull : it->value;
}

std::string fmt(double v, const char* unit = "", int decimals = 1) {
  if (!std::isfinite(v)) return "&ndash;";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f%s", decimals, v, unit);
  return buf;
}

std::string fmt_us(double us) {
  return fmt(us / 1e6, "s", 2);
}

std::string status_badge(const std::string& status) {
  return "<span class=\"st st-" + escape(status) + "\">" + escape(status) + "</span>";
}

const char* kCss = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:20px;color:#222;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:6px 0;font-size:13px}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
.st{padding:1px 6px;border-radius:3px;font-weight:600;color:#fff;background:#777}
.st-passed,.st-pass,.st-met{background:#2e7d32}.st-failed,.st-fail,.st-unmet,.st-error{background:#c62828}
.st-inconclusive,.st-aborted,.st-interrupted,.st-flaky{background:#ef6c00}
.meta{color:#555}.chart{display:block;margin:8px 0;border:1px solid #eee}
.chart-title{font-weight:600;font-size:13px}.band-label{font-size:11px;fill:#666}
.grid{stroke:#e6e6e6}.y-label,.x-label,.legend,.marker-label{font-size:10px;fill:#444}
code{font-size:12px}.msg{color:#444;font-size:12px}
.grid-cells td{min-width:90px}
)";

std::string page_start(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
         escape(title) + "</title><style>" + kCss + "</style></head><body>\n";
}

// ---- run report --------------------------------------------------------------------------

struct ServerFamily {
  std::string name;
  observe::MetricType type = observe::MetricType::kUntyped;
};

// The plan's metrics of interest, from the bundle's plan.json ("observe": {"metrics": [...]}).
std::vector<std::string> plan_metrics(const std::string& bundle_dir) {
  std::vector<std::string> out;
  const auto text = read_whole_file(bundle_dir + "/plan.json");
  if (!text) return out;
  rapidjson::Document d;
  if (!parse_json(*text, &d)) return out;
  const Json& m = member(member(d, "observe"), "metrics");
  if (m.IsArray())
    for (const auto& v : m.GetArray())
      if (v.IsString()) out.push_back(v.GetString());
  return out;
}

std::vector<ChartBand> phase_bands(const Json& phases) {
  std::vector<ChartBand> bands;
  if (!phases.IsArray()) return bands;
  for (const auto& p : phases.GetArray())
    bands.push_back({number(p, "start_us") / 1e6, number(p, "end_us") / 1e6, str(p, "name")});
  return bands;
}

std::vector<ChartMarker> fault_markers(const Json& events) {
  std::vector<ChartMarker> markers;
  if (!events.IsArray()) return markers;
  for (const auto& e : events.GetArray()) {
    ChartMarker m;
    m.at_s = number(e, "at_us") / 1e6;
    m.label = str(e, "action");
    m.failed = !member(e, "ok").IsTrue();
    std::string state;
    if (const Json& s = member(e, "state"); s.IsObject()) {
      for (const auto& kv : s.GetObject()) {
        state += (state.empty() ? "" : ", ") + std::string(kv.name.GetString()) + "=";
        if (kv.value.IsString())
          state += kv.value.GetString();
        else if (kv.value.IsNumber())
          state += fmt(kv.value.GetDouble(), "", kv.value.IsInt64() ? 0 : 2);
        else if (kv.value.IsBool())
          state += kv.value.GetBool() ? "true" : "false";
        else
          state += "...";
      }
    }
    m.tooltip = str(e, "action") + " " + str(e, "kind") + " " + str(e, "target") + " at " +
                fmt_us(number(e, "at_us")) + " (phase " + str(e, "phase") + ")" +
                (state.empty() ? "" : ": " + state) +
                (m.failed ? " FAILED: " + str(e, "error") : "");
    markers.push_back(std::move(m));
  }
  return markers;
}

struct RunCharts {
  std::vector<SvgChart> charts;
  std::string note;  // what could not be read
};

// Per-route latency is charted for the first few routes only, on coarser bins, so that a run
// with many routes still holds a bounded number of histograms.
constexpr size_t kMaxRouteCharts = 6;
constexpr size_t kMaxRouteBins = 300;

ChartSeries quantile_series(const ClientBins& bins, double q, std::string name, const char* color) {
  ChartSeries s{std::move(name), color, {}};
  for (size_t i = 0; i < bins.bins().size(); ++i) {
    const auto& h = bins.bins()[i].latency;
    s.points.emplace_back(
        (static_cast<double>(i) + 0.5) * bins.width_s(),
        h.count() > 0 ? h.quantile_us(q) / 1e3 : std::numeric_limits<double>::quiet_NaN());
  }
  return s;
}

void client_charts(const std::string& bundle_dir, Duration total, RunCharts& out) {
  ClientBins bins(total);
  std::map<std::string, ClientBins> routes;
  try {
    observe::SampleLogReader reader(bundle_dir + "/samples.csv.gz");
    observe::SampleRecord s;
    while (reader.next(s)) {
      bins.add(s);
      auto it = routes.find(s.route);
      if (it == routes.end() && routes.size() < kMaxRouteCharts)
        it = routes.emplace(s.route, ClientBins(total, kMaxRouteBins)).first;
      if (it != routes.end()) it->second.add(s);
    }
    if (reader.truncated()) out.note += "samples.csv.gz ends early (the run was cut short). ";
  } catch (const std::exception& e) {
    out.note += std::string("client samples not read: ") + e.what() + ". ";
    return;
  }
  const double w = bins.width_s();
  SvgChart lat, thr, err;
  lat.id = "chart-latency";
  lat.title = "Client latency";
  lat.y_unit = "ms";
  thr.id = "chart-throughput";
  thr.title = "Throughput (responses per second)";
  thr.y_unit = "req/s";
  err.id = "chart-errors";
  err.title = "Errors by class (per second)";
  err.y_unit = "/s";
  ChartSeries p50{"p50", kPalette[2], {}}, p95{"p95", kPalette[4], {}}, p99{"p99", kPalette[1], {}};
  ChartSeries done{"responses", kPalette[0], {}};
  std::set<std::string> classes;
  for (const auto& b : bins.bins())
    for (const auto& [c, n] : b.errors) classes.insert(c);
  std::vector<ChartSeries> errs;
  size_t ci = 0;
  for (const auto& c : classes) errs.push_back({c, kPalette[(ci++ + 1) % std::size(kPalette)], {}});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (size_t i = 0; i < bins.bins().size(); ++i) {
    const auto& b = bins.bins()[i];
    const double x = (static_cast<double>(i) + 0.5) * w;
    const bool any = b.latency.count() > 0;
    p50.points.emplace_back(x, any ? b.latency.quantile_us(0.5) / 1e3 : nan);
    p95.points.emplace_back(x, any ? b.latency.quantile_us(0.95) / 1e3 : nan);
    p99.points.emplace_back(x, any ? b.latency.quantile_us(0.99) / 1e3 : nan);
    done.points.emplace_back(x, static_cast<double>(b.completed) / w);
    size_t k = 0;
    for (const auto& c : classes) {
      const auto it = b.errors.find(c);
      errs[k++].points.emplace_back(
          x, it == b.errors.end() ? 0.0 : static_cast<double>(it->second) / w);
    }
  }
  lat.series = {p50, p95, p99};
  thr.series = {done};
  err.series = errs;
  if (errs.empty()) err.title += ": none";
  SvgChart by_route;
  by_route.id = "chart-latency-routes";
  by_route.title = "Client latency p95 by route";
  by_route.y_unit = "ms";
  size_t k = 0;
  for (const auto& [name, rb] : routes)
    by_route.series.push_back(quantile_series(rb, 0.95, name, kPalette[k++ % std::size(kPalette)]));
  for (SvgChart* c : {&lat, &by_route, &thr, &err}) out.charts.push_back(std::move(*c));
}

// The type a "# TYPE <family> <type>" line of `body` gives, or nullopt when there is none.
std::optional<observe::MetricType> type_line(std::string_view body, const std::string& family) {
  const std::string needle = "# TYPE " + family + " ";
  size_t at = 0;
  while ((at = body.find(needle, at)) != std::string_view::npos) {
    if (at == 0 || body[at - 1] == '\n') {
      std::string_view rest = body.substr(at + needle.size());
      rest = rest.substr(0, rest.find('\n'));
      while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r')) rest.remove_suffix(1);
      if (rest == "counter") return observe::MetricType::kCounter;
      if (rest == "gauge") return observe::MetricType::kGauge;
      if (rest == "histogram") return observe::MetricType::kHistogram;
      if (rest == "summary") return observe::MetricType::kSummary;
      return observe::MetricType::kUntyped;
    }
    at += needle.size();
  }
  return std::nullopt;
}

// One chart per (target, family of interest): counters as a rate, gauges as the value at
// each tick, histograms as p95 over each tick interval. Long runs read every k-th tick, so a
// chart has at most kMaxBins points.
void server_charts(const std::string& bundle_dir, const std::vector<std::string>& metrics,
                   RunCharts& out) {
  if (metrics.empty()) return;
  observe::ScrapeStore store(observe::ScrapeStore::Options{metrics, 20000});
  // The types and tick times come from the log itself.
  std::map<std::string, std::map<std::string, observe::MetricType>> types;  // job -> family
  std::map<std::string, std::vector<Duration>> ticks;
  std::vector<std::string> job_order;
  try {
    observe::ScrapeLogReader reader(bundle_dir + "/scrapes.txt.gz");
    observe::ScrapeLogEntry e;
    while (reader.next(e)) {
      if (!ticks.count(e.job)) job_order.push_back(e.job);
      auto& t = ticks[e.job];
      if (!t.empty() && e.at <= t.back()) continue;  // the store wants increasing times
      t.push_back(e.at);
      if (!e.ok) {
        store.add_failed_scrape(e.job, e.at, e.text);
        continue;
      }
      if (store.add_scrape_text(e.job, e.at, e.text)) continue;
      // A labelled family may first appear in a later scrape (clients create it on first
      // use), so its TYPE line is looked for until found; a text search, not a second parse.
      auto& known = types[e.job];
      for (const auto& family : metrics)
        if (!known.count(family))
          if (const auto type = type_line(e.text, family)) known[family] = *type;
    }
  } catch (const std::exception& e) {
    out.note += std::string("server scrapes not read: ") + e.what() + ". ";
    return;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const auto& job : job_order) {
    const auto& t = ticks[job];
    if (t.size() < 2) continue;
    const size_t step = std::max<size_t>(1, (t.size() + kMaxBins - 1) / kMaxBins);
    for (const auto& [family, type] : types[job]) {
      if (type == observe::MetricType::kSummary) continue;  // quantiles of unknown windows
      observe::SeriesSelector sel{family, {}};
      sel.matchers.emplace_back("job", observe::MatchOp::kEqual, job);
      SvgChart c;
      c.id = "chart-server-" + job + "-" + family;
      for (char& ch : c.id)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') ch = '_';
      ChartSeries s{"", kPalette[0], {}};
      ChartSeries s99{"p99", kPalette[1], {}};
      const bool hist = type == observe::MetricType::kHistogram;
      for (size_t i = step; i < t.size(); i += step) {
        const observe::TimeWindow w{t[i - step], t[i]};
        // Counters and histograms describe the interval: drawn at its middle.
        const double x = static_cast<double>((type == observe::MetricType::kGauge ||
                                              type == observe::MetricType::kUntyped)
                                                 ? t[i].count()
                                                 : (t[i - step].count() + t[i].count()) / 2) /
                         1e6;
        double v = nan;
        if (hist) {
          const auto q = store.histogram_quantile(0.95, sel, w);
          const auto q99 = store.histogram_quantile(0.99, sel, w);
          v = q.has_data() ? q.value * 1e3 : nan;
          s99.points.emplace_back(x, q99.has_data() ? q99.value * 1e3 : nan);
        } else if (type == observe::MetricType::kCounter) {
          const auto r = store.rate(sel, w);
          v = r.has_data() ? r.value : nan;
        } else {
          const auto g = store.gauge(observe::GaugeFunction::kLast, sel,
                                     observe::TimeWindow{t[i], t[i] + Duration(1)});
          v = g.has_data() ? g.value : nan;
        }
        s.points.emplace_back(x, v);
      }
      if (hist) {
        c.title = job + ": " + family + " p95/p99 per scrape interval";
        c.y_unit = "ms";
        s.name = "p95";
        c.series = {s, s99};
      } else if (type == observe::MetricType::kCounter) {
        c.title = job + ": rate of " + family;
        c.y_unit = "/s";
        s.name = "rate";
        c.series = {s};
      } else {
        c.title = job + ": " + family;
        s.name = "value";
        c.series = {s};
      }
      out.charts.push_back(std::move(c));
    }
  }
}

std::string traffic_cells(const Json& t) {
  const Json& l = member(t, "latency_ms");
  return "<td class=\"n\">" + str(t, "sent") + "</td><td class=\"n\">" +
         fmt(number(t, "achieved_rps")) + "</td><td class=\"n\">" +
         fmt(number(t, "error_rate") * 100, "%", 2) + "</td><td class=\"n\">" +
         fmt(number(l, "p50"), "", 1) + "</td><td class=\"n\">" + fmt(number(l, "p95"), "", 1) +
         "</td><td class=\"n\">" + fmt(number(l, "p99"), "", 1) + "</td><td class=\"n\">" +
         fmt(number(l, "max"), "", 1) + "</td>";
}

const char* kTrafficHead =
    "<th>sent</th><th>req/s</th><th>errors</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th>"
    "<th>max ms</th>";

std::string run_html(const rapidjson::Document& a, const std::string& artifact_path) {
  const Json& meta = member(a, "meta");
  const std::string scenario = str(meta, "scenario");
  const std::string bundle_rel = str(member(a, "bundle"), "dir");
  const fs::path artifact_dir = fs::path(artifact_path).parent_path();
  const std::string bundle_dir =
      bundle_rel.empty()
          ? html_path_for(artifact_path).substr(0, html_path_for(artifact_path).size() - 5)
          : (fs::path(bundle_rel).is_absolute() ? fs::path(bundle_rel) : artifact_dir / bundle_rel)
                .string();
  double total_us = number(meta, "planned_duration_us");
  if (const Json& ph = member(a, "phases"); ph.IsArray() && !ph.Empty())
    total_us =
        std::max(std::isfinite(total_us) ? total_us : 0.0, number(ph[ph.Size() - 1], "end_us"));
  if (!std::isfinite(total_us) || total_us <= 0) total_us = 1e6;

  RunCharts rc;
  client_charts(bundle_dir, Duration(static_cast<int64_t>(total_us)), rc);
  server_charts(bundle_dir, plan_metrics(bundle_dir), rc);
  const auto bands = phase_bands(member(a, "phases"));
  const auto markers = fault_markers(member(a, "fault_events"));

  std::string o = page_start("faultline: " + scenario);
  o += "<h1>" + escape(scenario) + " " + status_badge(str(a, "status")) + "</h1>\n";
  o += "<p class=\"meta\">" + escape(str(meta, "description")) + "</p>";
  o += "<p class=\"meta\">started " + escape(str(meta, "started_at")) + ", planned " +
       fmt_us(number(meta, "planned_duration_us")) + ", ran " +
       fmt_us(number(meta, "actual_duration_us")) + ", seed " + escape(str(meta, "seed")) +
       (str(meta, "tag").empty() ? "" : ", tag " + escape(str(meta, "tag"))) + ", spec <code>" +
       escape(str(meta, "spec_path")) + "</code>, artifact <code>" +
       escape(fs::path(artifact_path).filename().string()) + "</code></p>\n";
  if (!str(a, "status_detail").empty())
    o += "<p><b>" + escape(str(a, "status_detail")) + "</b></p>";
  if (const Json& ab = member(a, "abort"); member(ab, "triggered").IsTrue())
    o += "<p><b>aborted at " + fmt_us(number(ab, "at_us")) + ": " + escape(str(ab, "condition")) +
         "</b></p>";

  // Assertions first: they are what the run is for.
  o += "<h2>Assertions</h2>\n<table id=\"assertions\"><tr><th>verdict</th><th>assertion</th>"
       "<th>observed</th><th>window</th><th>source</th></tr>\n";
  if (const Json& as = member(a, "assertions"); as.IsArray())
    for (const auto& x : as.GetArray()) {
      std::string observed;
      if (const Json& ob = member(x, "observed"); ob.IsArray())
        for (const auto& v : ob.GetArray())
          observed +=
              (observed.empty() ? "" : "<br>") + escape(str(v, "what")) + " = <b>" +
              escape(str(v, "display")) + "</b>" +
              (str(v, "samples") != "0" ? " (" + escape(str(v, "samples")) + " samples)" : "") +
              (str(v, "note").empty() ? "" : " <i>" + escape(str(v, "note")) + "</i>");
      o += "<tr class=\"assertion\" data-status=\"" + escape(str(x, "status")) + "\"><td>" +
           status_badge(str(x, "status")) + "</td><td><code>" + escape(str(x, "text")) +
           "</code><div class=\"msg\">" + escape(str(x, "message")) + "</div></td><td>" + observed +
           "</td><td>" + escape(str(x, "window")) + "<br>" + fmt_us(number(x, "window_start_us")) +
           " &ndash; " + fmt_us(number(x, "window_end_us")) + "</td><td><code>" +
           escape(str(x, "source")) + "</code></td></tr>\n";
    }
  o += "</table>\n";

  o += "<h2>Over time</h2>\n";
  if (!rc.note.empty()) o += "<p class=\"meta\">" + escape(rc.note) + "</p>";
  for (auto& c : rc.charts) {
    c.x_end_s = total_us / 1e6;
    c.bands = bands;
    c.markers = markers;
    o += render_svg_chart(c) + "\n";
  }

  o += "<h2>Phases</h2>\n<table id=\"phases\"><tr><th>phase</th><th>span</th><th>faults</th>" +
       std::string(kTrafficHead) +
       "<th>lateness p50 ms</th><th>p99 ms</th><th>max ms</th><th>client lagging</th></tr>\n";
  const Json& phases = member(a, "phases");
  if (phases.IsArray())
    for (const auto& p : phases.GetArray()) {
      std::string faults;
      if (const Json& f = member(p, "faults"); f.IsObject())
        for (const auto& kv : f.GetObject())
          faults += (faults.empty() ? "" : ", ") + std::string(kv.name.GetString());
      const Json& late = member(p, "send_lateness_ms");
      o += "<tr><td>" + escape(str(p, "name")) + "</td><td>" + fmt_us(number(p, "start_us")) +
           " &ndash; " + fmt_us(number(p, "end_us")) + "</td><td>" + escape(faults) + "</td>" +
           traffic_cells(member(p, "client")) + "<td class=\"n\">" + fmt(number(late, "p50")) +
           "</td><td class=\"n\">" + fmt(number(late, "p99")) + "</td><td class=\"n\">" +
           fmt(number(late, "max")) + "</td><td>" +
           (member(p, "client_lagging").IsTrue() ? "<b>yes</b>" : "no") + "</td></tr>\n";
    }
  o +=
      "</table>\n<h2>Routes per phase</h2>\n<table id=\"routes\"><tr><th>phase</th><th>route</th>" +
      std::string(kTrafficHead) + "</tr>\n";
  if (phases.IsArray())
    for (const auto& p : phases.GetArray())
      if (const Json& r = member(p, "routes"); r.IsObject())
        for (const auto& kv : r.GetObject())
          o += "<tr><td>" + escape(str(p, "name")) + "</td><td>" + escape(kv.name.GetString()) +
               "</td>" + traffic_cells(kv.value) + "</tr>\n";
  o += "</table>\n";

  o += "<h2>Server figures per phase</h2>\n<table id=\"server\"><tr><th>phase</th><th>target</th>"
       "<th>figures</th></tr>\n";
  if (phases.IsArray())
    for (const auto& p : phases.GetArray())
      if (const Json& s = member(p, "server"); s.IsObject())
        for (const auto& kv : s.GetObject()) {
          std::string figs;
          if (kv.value.IsObject())
            for (const auto& f : kv.value.GetObject())
              figs += (figs.empty() ? "" : ", ") + escape(f.name.GetString()) + " " +
                      (f.value.IsNumber() ? fmt(f.value.GetDouble(), "", 2) : "&ndash;");
          o += "<tr><td>" + escape(str(p, "name")) + "</td><td>" + escape(kv.name.GetString()) +
               "</td><td>" + figs + "</td></tr>\n";
        }
  o += "</table>\n";

  o += "<h2>Fault events</h2>\n<table id=\"fault-events\"><tr><th>at</th><th>phase</th>"
       "<th>action</th><th>kind</th><th>target</th><th>ok</th><th>error</th></tr>\n";
  if (const Json& ev = member(a, "fault_events"); ev.IsArray())
    for (const auto& e : ev.GetArray())
      o += "<tr><td>" + fmt_us(number(e, "at_us")) + "</td><td>" + escape(str(e, "phase")) +
           "</td><td>" + escape(str(e, "action")) + "</td><td>" + escape(str(e, "kind")) +
           "</td><td>" + escape(str(e, "target")) + "</td><td>" + escape(str(e, "ok")) +
           "</td><td>" + escape(str(e, "error")) + "</td></tr>\n";
  o += "</table>\n";

  o += "<h2>Slowest requests</h2>\n<table id=\"slowest\"><tr><th>latency</th><th>phase</th>"
       "<th>route</th><th>request</th><th>status</th><th>sent at</th><th>request id</th></tr>\n";
  if (const Json& sl = member(a, "slowest_requests"); sl.IsArray()) {
    rapidjson::SizeType n = 0;
    for (const auto& s : sl.GetArray()) {
      if (n++ >= 20) break;
      const std::string status =
          str(s, "error_class").empty() ? str(s, "status") : str(s, "error_class");
      o += "<tr><td class=\"n\">" + fmt(number(s, "latency_us") / 1e3, " ms") + "</td><td>" +
           escape(str(s, "phase")) + "</td><td>" + escape(str(s, "route")) + "</td><td><code>" +
           escape(str(s, "method") + " " + str(s, "path")) + "</code></td><td>" + escape(status) +
           "</td><td>" + fmt_us(number(s, "intended_us")) + "</td><td><code>" +
           escape(str(s, "request_id")) + "</code></td></tr>\n";
    }
  }
  o += "</table>\n<h2>Error signatures</h2>\n<table id=\"error-signatures\"><tr><th>count</th>"
       "<th>signature</th><th>example request id</th></tr>\n";
  if (const Json& es = member(a, "error_signatures"); es.IsArray())
    for (const auto& e : es.GetArray())
      o += "<tr><td class=\"n\">" + escape(str(e, "count")) + "</td><td><code>" +
           escape(str(e, "signature")) + "</code></td><td><code>" +
           escape(str(e, "example_request_id")) + "</code></td></tr>\n";
  o += "</table>\n";
  if (const Json& sf = member(a, "scrape_failures"); sf.IsArray() && !sf.Empty()) {
    o += "<h2>Failed scrapes</h2>\n<table id=\"scrape-failures\"><tr><th>target</th><th>count"
         "</th><th>first</th></tr>\n";
    for (const auto& f : sf.GetArray()) {
      std::string first;
      if (const Json& l = member(f, "first"); l.IsArray() && !l.Empty())
        first = fmt_us(number(l[0], "at_us")) + ": " + escape(str(l[0], "reason"));
      o += "<tr><td>" + escape(str(f, "service")) + "</td><td class=\"n\">" +
           escape(str(f, "count")) + "</td><td>" + first + "</td></tr>\n";
    }
    o += "</table>\n";
  }
  o += "<p class=\"meta\">faultline " + escape(str(meta, "faultline_version")) + ", plan " +
       escape(str(meta, "plan_hash")).substr(0, 12) + ", bundle <code>" + escape(bundle_rel) +
       "</code></p>\n</body></html>\n";
  return o;
}

// ---- compare report ----------------------------------------------------------------------

std::string metric_row(const Json& m, const std::string& first_cell) {
  const Json& b = member(m, "baseline");
  const Json& c = member(m, "candidate");
  const Json& iv = member(m, "interval");
  return "<tr>" + first_cell + "<td><code>" + escape(str(m, "metric")) +
         "</code></td><td class=\"n\">" + escape(str(b, "text")) + " <span class=\"msg\">(" +
         escape(str(b, "samples")) + ")</span></td><td class=\"n\">" + escape(str(c, "text")) +
         " <span class=\"msg\">(" + escape(str(c, "samples")) + ")</span></td><td class=\"n\">" +
         escape(str(m, "improvement_text")) + "</td><td>" +
         (iv.IsObject() ? escape(str(iv, "text")) : escape(str(m, "interval_note"))) + "</td><td>" +
         escape(str(m, "significance")) + "</td></tr>\n";
}

std::string compare_html(const rapidjson::Document& a) {
  const std::string scenario = str(a, "scenario");
  std::string o = page_start("faultline compare: " + scenario);
  o += "<h1>compare " + escape(scenario) + " " + status_badge(str(a, "status")) + "</h1>\n";
  for (const char* side : {"baseline", "candidate"}) {
    const Json& r = member(a, side);
    o += "<p class=\"meta\"><b>" + std::string(side) + "</b>: tag " + escape(str(r, "tag")) + ", " +
         escape(str(r, "status")) + ", started " + escape(str(r, "started_at")) + ", <code>" +
         escape(str(r, "artifact")) + "</code>" +
         (str(r, "note").empty() ? "" : " <i>" + escape(str(r, "note")) + "</i>") + "</p>\n";
  }
  const char* head =
      "<th>metric</th><th>baseline</th><th>candidate</th><th>improvement</th>"
      "<th>interval</th><th>significance</th>";
  o += "<h2>Gates</h2>\n<table id=\"gates\"><tr><th>verdict</th><th>gate</th>" + std::string(head) +
       "</tr>\n";
  if (const Json& g = member(a, "gates"); g.IsArray())
    for (const auto& x : g.GetArray())
      o += metric_row(x, "<td>" + status_badge(str(x, "status")) + "</td><td><code>" +
                             escape(str(x, "statement")) + "</code><div class=\"msg\">" +
                             escape(str(x, "message")) + "</div></td>");
  o += "</table>\n<h2>Phases side by side</h2>\n<table id=\"compare-phases\"><tr><th>phase</th>" +
       std::string(head) + "</tr>\n";
  if (const Json& p = member(a, "phases"); p.IsArray())
    for (const auto& ph : p.GetArray())
      if (const Json& ms = member(ph, "metrics"); ms.IsArray())
        for (const auto& m : ms.GetArray())
          o += metric_row(m, "<td>" + escape(str(ph, "name")) + "</td>");
  o += "</table>\n";
  if (const Json& n = member(a, "notes"); n.IsArray() && !n.Empty()) {
    o += "<h2>Notes</h2><ul>";
    for (const auto& s : n.GetArray())
      if (s.IsString()) o += "<li>" + escape(s.GetString()) + "</li>";
    o += "</ul>\n";
  }
  o += "<p class=\"meta\">" + escape(str(a, "command")) + "</p></body></html>\n";
  return o;
}

// ---- matrix report -----------------------------------------------------------------------

// Links to each run's page of a matrix cell, relative to the matrix folder `here`, so that
// the folder can be moved or served as it is.
std::string cell_run_links(const Json& cell, const fs::path& here) {
  std::string runs;
  const Json& rs = member(cell, "runs");
  if (!rs.IsArray()) return runs;
  int k = 0;
  for (const auto& r : rs.GetArray()) {
    ++k;
    const std::string art = str(r, "artifact");
    const std::string label = "r" + std::to_string(k) + " " + str(r, "status");
    if (art.empty()) {
      runs += escape(label) + "<br>";
      continue;
    }
    std::error_code ec;
    const fs::path target = fs::absolute(fs::path(html_path_for(art)), ec);
    fs::path rel = fs::relative(target, here, ec);
    if (ec || rel.empty()) rel = fs::path(html_path_for(art)).filename();
    runs += "<a class=\"cell-link\" href=\"" + escape(rel.generic_string()) + "\">" +
            escape(label) + "</a><br>";
  }
  return runs;
}

std::string cell_status(const Json& c) {
  return member(c, "flaky").IsTrue() ? "flaky" : (member(c, "met").IsTrue() ? "met" : "unmet");
}

std::string matrix_html(const rapidjson::Document& a, const std::string& artifact_path) {
  const fs::path here = fs::absolute(fs::path(artifact_path)).parent_path();
  const std::string name = str(a, "matrix");
  std::string o = page_start("faultline matrix: " + name);
  const Json& sum = member(a, "summary");
  o += "<h1>matrix " + escape(name) + "</h1>\n<p class=\"meta\">" + escape(str(sum, "cells")) +
       " cells: " + escape(str(sum, "met")) + " met, " + escape(str(sum, "unmet")) + " unmet, " +
       escape(str(sum, "flaky")) + " flaky; started " + escape(str(a, "started_at")) + "</p>\n";
  const Json& cells = member(a, "cells");

  // The grid: a row per scenario, a column per rest of the cell id (environment, settings,
  // seed), in the order they first appear.
  std::vector<std::string> rows, cols;
  std::map<std::pair<std::string, std::string>, const Json*> at;
  if (cells.IsArray())
    for (const auto& c : cells.GetArray()) {
      const std::string scenario = str(c, "scenario"), id = str(c, "id");
      const std::string col =
          id.rfind(scenario + ".", 0) == 0 ? id.substr(scenario.size() + 1) : id;
      if (std::find(rows.begin(), rows.end(), scenario) == rows.end()) rows.push_back(scenario);
      if (std::find(cols.begin(), cols.end(), col) == cols.end()) cols.push_back(col);
      at[{scenario, col}] = &c;
    }
  o += "<h2>Grid</h2>\n<table id=\"matrix-grid\" class=\"grid-cells\"><tr><th>scenario</th>";
  for (const auto& col : cols) o += "<th>" + escape(col) + "</th>";
  o += "</tr>\n";
  for (const auto& row : rows) {
    o += "<tr><th>" + escape(row) + "</th>";
    for (const auto& col : cols) {
      const auto it = at.find({row, col});
      if (it == at.end()) {
        o += "<td></td>";
        continue;
      }
      const Json& c = *it->second;
      o += "<td class=\"cell\" data-status=\"" + cell_status(c) + "\">" +
           status_badge(cell_status(c)) + " <span class=\"msg\">expect " +
           escape(str(c, "expect")) + "</span><br>" + cell_run_links(c, here) + "</td>";
    }
    o += "</tr>\n";
  }
  o += "</table>\n<h2>Cells</h2>\n<table id=\"matrix-cells\"><tr><th>cell</th><th>scenario</th>"
       "<th>env</th><th>expect</th><th>status</th><th>pass rate</th><th>message</th></tr>\n";
  if (cells.IsArray())
    for (const auto& c : cells.GetArray())
      o += "<tr><td>" + escape(str(c, "id")) + "</td><td>" + escape(str(c, "scenario")) +
           "</td><td>" + escape(str(c, "env")) + "</td><td>" + escape(str(c, "expect")) +
           "</td><td>" + status_badge(cell_status(c)) + "</td><td class=\"n\">" +
           fmt(number(c, "pass_rate") * 100, "%", 0) + "</td><td class=\"msg\">" +
           escape(str(c, "message")) + "</td></tr>\n";
  o += "</table>\n</body></html>\n";
  return o;
}

// The page of a run killed before it wrote its artifact: the bundle's plan gives the phases,
// its logs the charts; there are no verdicts or tables.
std::string unfinished_run_html(const std::string& bundle_dir) {
  const auto text = read_whole_file(bundle_dir + "/plan.json");
  if (!text) throw UsageError(bundle_dir + ": no plan.json; not a run bundle");
  rapidjson::Document plan;
  if (!parse_json(*text, &plan) || !plan.IsObject())
    throw UsageError(bundle_dir + "/plan.json: not a plan");
  const auto us = [](const Json& o, const char* k) {
    const double v = number(o, k);
    return static_cast<int64_t>(std::isfinite(v) ? v : 0);
  };
  JsonOut j;
  j.begin_object();
  j.member("status", "unfinished");
  j.member("status_detail",
           "The run never wrote its artifact (it was killed): the charts show what its bundle "
           "recorded; there are no verdicts.");
  j.key("meta").begin_object();
  j.member("scenario", str(plan, "scenario"));
  j.member("description", str(plan, "description"));
  j.member("planned_duration_us", us(plan, "total_us"));
  j.end_object();
  j.key("phases").begin_array();
  if (const Json& ph = member(plan, "phases"); ph.IsArray())
    for (const auto& p : ph.GetArray()) {
      j.begin_object();
      j.member("name", str(p, "name"));
      j.member("start_us", us(p, "start_us"));
      j.member("end_us", us(p, "end_us"));
      j.end_object();
    }
  j.end_array();
  j.key("bundle").begin_object();
  j.member("dir", fs::path(bundle_dir).filename().string());
  j.end_object();
  j.end_object();
  rapidjson::Document d;
  parse_json(j.text(), &d);
  return run_html(d, bundle_dir + ".json");
}

}  // namespace

std::string report_html(const std::string& artifact_path) {
  std::error_code ec;
  if (fs::is_directory(artifact_path, ec)) {
    std::string dir = artifact_path;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    return unfinished_run_html(dir);
  }
  const auto text = read_whole_file(artifact_path);
  if (!text) throw UsageError(artifact_path + ": cannot be read");
  rapidjson::Document d;
  JsonParseError error;
  if (!parse_json(*text, &d, &error) || !d.IsObject())
    throw UsageError(artifact_path + ": not a faultline artifact (" +
                     (d.IsObject() ? "" : error.describe()) + ")");
  if (str(d, "kind") == "comparison") return compare_html(d);
  if (member(d, "cells").IsArray() && d.HasMember("matrix")) return matrix_html(d, artifact_path);
  if (member(d, "meta").IsObject() && member(d, "phases").IsArray())
    return run_html(d, artifact_path);
  throw UsageError(artifact_path +
                   ": not a run, comparison or matrix artifact (no meta/phases, kind or cells)");
}

std::string write_html_report(const std::string& artifact_path, const std::string& out_path) {
  const std::string path = out_path.empty() ? html_path_for(artifact_path) : out_path;
  write_file_atomically(path, report_html(artifact_path));
  return path;
}

std::string write_html_beside(const std::string& artifact_path, std::FILE* err) {
  try {
    return write_html_report(artifact_path);
  } catch (const std::exception& e) {
    std::fprintf(err, "html: not written: %s\n", e.what());
    return "";
  }
}

}  // namespace faultline::html
