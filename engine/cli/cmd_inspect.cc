// faultline inspect: prints what faultline reads, for spec authors writing server assertions:
// the families of a /metrics endpoint or an exposition file (parsed by the same
// MetricsTextParser as every scrape), or the answer of a PromQL query to a Prometheus server
// (read by the same code as `observe: {source: prometheus}`). Also the parser's entry point for
// benchmarks (--stats).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cxxopts.hpp>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/plan_flags.h"
#include "common/error.h"
#include "common/json_out.h"
#include "common/units.h"
#include "net/allowlist.h"
#include "net/http_call.h"
#include "observe/exposition_summary.h"
#include "observe/metrics_text_parser.h"
#include "observe/prometheus_api.h"
#include "observe/scrape_store.h"
#include "run/prometheus_pull.h"

namespace faultline::cli {
namespace {

using observe::FamilySummary;
using observe::prometheus_number;
using observe::SeriesSummary;

constexpr size_t kMaxBodyBytes = size_t{1} << 30;  // 1 GiB: far above any real exposition
constexpr size_t kHelpChars = 72;                  // help text is cut here in text output

// "Unusable answer": the target answered, but not with something faultline can read.
class UnusableAnswer : public Error {
 public:
  explicit UnusableAnswer(const std::string& m) : Error(ExitCode::kFailed, m) {}
};

// One read into a buffer of the file's size (pipes and stdin: 64 KiB chunks), so a benchmark
// of a 10 MB exposition measures the parser, not the reading.
std::string read_file_in_one_go(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UsageError("cannot read " + path + ": " + std::strerror(errno));
  struct stat st {};
  std::string out;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) out.resize(static_cast<size_t>(st.st_size));
  size_t used = 0;
  static char chunk[1 << 16];
  for (;;) {
    const bool sized = used < out.size();  // still filling the file's size
    const ssize_t n =
        sized ? ::read(fd, out.data() + used, out.size() - used) : ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int e = errno;
      ::close(fd);
      throw UsageError("cannot read " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    if (!sized) out.append(chunk, static_cast<size_t>(n));
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(used);
  return out;
}

std::string number(double v) {
  return prometheus_number(v);
}

std::string short_number(double v) {
  if (!std::isfinite(v)) return prometheus_number(v);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string quantile_name(double q) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "p%g", q * 100);
  return buf;
}

bool grouped(observe::MetricType t) {
  return t == observe::MetricType::kHistogram || t == observe::MetricType::kSummary;
}

// "count 120 sum 3.5 p50 0.01 p90 0.05 p99 0.2" or "value 42".
std::string figures(observe::MetricType type, const SeriesSummary& s) {
  if (!grouped(type)) return number(s.value);
  std::string out = "count " + number(s.count) + "  sum " + short_number(s.sum);
  if (type == observe::MetricType::kHistogram) {
    for (size_t i = 0; i < observe::kInspectQuantiles.size(); ++i)
      out +=
          "  " + quantile_name(observe::kInspectQuantiles[i]) + " " + short_number(s.quantiles[i]);
    if (s.forced_monotonic) out += "  (buckets not monotonic; fixed up as Prometheus does)";
  }
  return out;
}

std::string one_line_help(const std::string& help) {
  std::string out;
  for (char c : help) out += c == '\n' ? ' ' : c;
  if (out.size() > kHelpChars) out = out.substr(0, kHelpChars - 3) + "...";
  return out;
}

void print_families_text(const std::vector<FamilySummary>& families, bool per_series) {
  for (const FamilySummary& f : families) {
    std::printf("%s  %s, %zu series: %s\n", f.name.c_str(),
                std::string(observe::metric_type_name(f.type)).c_str(), f.series.size(),
                figures(f.type, f.total).c_str());
    if (!f.help.empty()) std::printf("  # %s\n", one_line_help(f.help).c_str());
    if (!per_series) continue;
    for (const SeriesSummary& s : f.series)
      std::printf("  %s  %s\n", observe::series_text(s.name, s.labels).c_str(),
                  figures(f.type, s).c_str());
  }
}

void json_labels(JsonOut& j, const observe::Labels& labels) {
  j.key("labels").begin_object();
  for (const auto& l : labels) j.member(l.name, l.value);
  j.end_object();
}

void json_figures(JsonOut& j, observe::MetricType type, const SeriesSummary& s) {
  if (!grouped(type)) {
    j.member("value", s.value);
    return;
  }
  j.member("count", s.count);
  j.member("sum", s.sum);
  if (type != observe::MetricType::kHistogram) return;
  j.key("quantiles").begin_object();
  for (size_t i = 0; i < observe::kInspectQuantiles.size(); ++i)
    j.member(prometheus_number(observe::kInspectQuantiles[i]), s.quantiles[i]);
  j.end_object();
  j.member("forced_monotonic", s.forced_monotonic);
}

void print_families_json(const std::string& source, const observe::Exposition& exposition,
                         const std::vector<FamilySummary>& families, bool per_series) {
  JsonOut j;
  j.begin_object();
  j.member("source", source);
  j.member("samples", static_cast<uint64_t>(exposition.sample_count));
  j.member("duplicate_samples", static_cast<uint64_t>(exposition.duplicate_samples));
  j.key("families").begin_array();
  for (const FamilySummary& f : families) {
    j.begin_object();
    j.member("name", f.name);
    j.member("type", observe::metric_type_name(f.type));
    j.member("help", f.help);
    j.member("series_count", static_cast<uint64_t>(f.series.size()));
    j.member("samples", static_cast<uint64_t>(f.samples));
    json_figures(j, f.type, f.total);
    if (per_series) {
      j.key("series").begin_array();
      for (const SeriesSummary& s : f.series) {
        j.begin_object();
        j.member("name", s.name);
        json_labels(j, s.labels);
        json_figures(j, f.type, s);
        j.end_object();
      }
      j.end_array();
    }
    j.end_object();
  }
  j.end_array();
  j.end_object();
  std::printf("%s\n", j.text().c_str());
}

// GET of a /metrics URL: the body, or exit 3 (no answer) / exit 1 (an answer that is not 200).
std::string fetch_metrics(const std::string& url, Duration timeout) {
  HttpRequest req;
  req.url = url;
  req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  req.max_body_bytes = kMaxBodyBytes;
  const HttpResponse r = http_call(req);
  const std::string why = observe::describe_scrape_failure(static_cast<int>(r.status),
                                                           r.error_class, r.error, r.body, timeout);
  if (!r.error.empty() && r.error_class != "too_large")
    throw EnvironmentError(url + " did not answer: " + why);
  if (!r.ok()) throw UnusableAnswer(url + ": " + why);
  return r.body;
}

int inspect_exposition(const std::string& target, const cxxopts::ParseResult& result) {
  std::string text;
  std::string source = target;
  if (target == "-") {
    source = "stdin";
    text = read_file_in_one_go("/dev/stdin");
  } else if (target.find("://") != std::string::npos) {
    UrlParts parts;
    if (const auto problem = loopback_url_problem(target, &parts))
      throw UsageError(target + ": " + *problem);
    const std::string url = parts.path.empty() ? target + "/metrics" : target;
    const auto timeout = parse_duration(result["timeout"].as<std::string>());
    if (!timeout || timeout->count() <= 0) throw UsageError("--timeout wants a duration, e.g. 5s");
    source = url;
    text = fetch_metrics(url, *timeout);
  } else {
    text = read_file_in_one_go(target);
  }

  observe::ExpositionFilter filter;
  filter.family = result["family"].as<std::string>();
  if (result.count("match")) {
    for (const auto& m : result["match"].as<std::vector<std::string>>()) {
      try {
        filter.selectors.push_back(observe::parse_selector_text(m));
      } catch (const std::invalid_argument& e) {
        throw UsageError("--match '" + m + "': " + e.what());
      }
    }
  }

  observe::MetricsTextParser parser;
  observe::Exposition exposition;
  const auto start = std::chrono::steady_clock::now();
  try {
    exposition = parser.parse(text);
  } catch (const observe::MetricsTextError& e) {
    throw UnusableAnswer(source + ":" + std::to_string(e.line()) + ":" +
                         std::to_string(e.column()) + ": " + e.detail());
  }
  const double parse_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (result.count("stats"))
    std::fprintf(stderr, "parse: %zu bytes, %zu samples, %zu families in %.3f ms = %.1f MB/s\n",
                 text.size(), exposition.sample_count, exposition.families.size(), parse_s * 1e3,
                 parse_s > 0 ? static_cast<double>(text.size()) / 1e6 / parse_s : 0.0);

  const auto families = observe::summarize_exposition(exposition, filter);
  const bool per_series = result.count("series") > 0;
  if (result["format"].as<std::string>() == "json") {
    print_families_json(source, exposition, families, per_series);
    return 0;
  }
  print_families_text(families, per_series);
  size_t shown_samples = 0;
  for (const auto& f : families) shown_samples += f.samples;
  std::printf("\n%zu of %zu families, %zu of %zu samples", families.size(),
              exposition.families.size(), shown_samples, exposition.sample_count);
  if (exposition.duplicate_samples > 0)
    std::printf(" (%zu repeated series dropped, the first value kept)",
                exposition.duplicate_samples);
  std::printf("\n");
  return 0;
}

// --time: Unix seconds ("1764540000.5"), "now", or "now-5m".
int64_t parse_time_ms(const std::string& text, int64_t now_ms) {
  if (text == "now") return now_ms;
  if (text.rfind("now-", 0) == 0) {
    const auto ago = parse_duration(std::string_view(text).substr(4));
    if (!ago) throw UsageError("--time " + text + ": expected now-DURATION, e.g. now-5m");
    return now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(*ago).count();
  }
  char* end = nullptr;
  const double s = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(s) || s < 0)
    throw UsageError("--time " + text + ": expected Unix seconds, 'now' or 'now-DURATION'");
  return static_cast<int64_t>(std::llround(s * 1000));
}

std::string utc_text(int64_t unix_ms) {
  const time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

struct RangeFigures {
  size_t points = 0;
  double min = NAN, avg = NAN, max = NAN, last = NAN;
};

RangeFigures range_figures(const observe::PromSeries& s) {
  RangeFigures f;
  f.points = s.points.size();
  double sum = 0;
  size_t n = 0;
  for (const auto& p : s.points) {
    f.last = p.value;
    if (std::isnan(p.value)) continue;
    f.min = n == 0 ? p.value : std::min(f.min, p.value);
    f.max = n == 0 ? p.value : std::max(f.max, p.value);
    sum += p.value;
    ++n;
  }
  if (n > 0) f.avg = sum / static_cast<double>(n);
  return f;
}

int inspect_query(const std::string& base, const std::string& expr,
                  const cxxopts::ParseResult& result) {
  if (const auto problem = loopback_url_problem(base)) throw UsageError(base + ": " + *problem);
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const int64_t at_ms = parse_time_ms(result["time"].as<std::string>(), now_ms);
  const bool json = result["format"].as<std::string>() == "json";
  ObserveSource source;
  source.source = "prometheus";
  source.url = base;
  // No answer at all is exit 3; PrometheusPull turns answers it cannot use into
  // PrometheusApiError (exit 1).
  const PrometheusPull pull(source, 0, [&](const HttpRequest& req) {
    HttpResponse r = http_call(req);
    if (!r.error.empty() && r.error_class != "too_large")
      throw EnvironmentError("Prometheus at " + base + " did not answer: " +
                             observe::describe_scrape_failure(0, r.error_class, r.error, "",
                                                              std::chrono::seconds(10)));
    return r;
  });

  const bool ranged = result.count("range") > 0;
  int64_t start_ms = at_ms, step_ms = 0;
  if (ranged) {
    const auto range = parse_duration(result["range"].as<std::string>());
    const auto step = parse_duration(result["step"].as<std::string>());
    if (!range || range->count() <= 0) throw UsageError("--range wants a duration, e.g. 5m");
    if (!step || step->count() < 1000) throw UsageError("--step wants a duration of 1ms or more");
    step_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*step).count();
    start_ms = at_ms - std::chrono::duration_cast<std::chrono::milliseconds>(*range).count();
    if ((at_ms - start_ms) / step_ms + 1 > observe::kMaxRangePoints)
      throw UsageError("--range / --step gives more than " +
                       std::to_string(observe::kMaxRangePoints) + " points; raise --step");
  }
  observe::PromAnswer answer;
  try {
    answer = ranged ? pull.range(expr, start_ms, at_ms, step_ms) : pull.instant(expr, at_ms);
  } catch (const observe::PrometheusApiError& e) {
    throw UnusableAnswer(e.what());
  }
  for (const auto& w : answer.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());

  if (json) {
    JsonOut j;
    j.begin_object();
    j.member("prometheus", base);
    j.member("query", expr);
    j.member("result_type", answer.result_type);
    if (ranged) {
      j.member("start_unix_ms", start_ms);
      j.member("end_unix_ms", at_ms);
      j.member("step_ms", step_ms);
    } else {
      j.member("time_unix_ms", at_ms);
    }
    j.key("series").begin_array();
    for (const auto& s : answer.series) {
      j.begin_object();
      j.member("name", s.name);
      json_labels(j, s.labels);
      if (ranged) {
        const RangeFigures f = range_figures(s);
        j.member("points", static_cast<uint64_t>(f.points));
        j.member("min", f.min);
        j.member("avg", f.avg);
        j.member("max", f.max);
        j.member("last", f.last);
      } else {
        j.member("value", s.points.empty() ? NAN : s.points.front().value);
      }
      j.end_object();
    }
    j.end_array();
    j.end_object();
    std::printf("%s\n", j.text().c_str());
    return 0;
  }

  if (ranged)
    std::printf("%s over %s .. %s, step %s (%s):\n", expr.c_str(), utc_text(start_ms).c_str(),
                utc_text(at_ms).c_str(),
                format_duration(std::chrono::milliseconds(step_ms)).c_str(),
                answer.result_type.c_str());
  else
    std::printf("%s at %s (%s):\n", expr.c_str(), utc_text(at_ms).c_str(),
                answer.result_type.c_str());
  for (const auto& s : answer.series) {
    const std::string name = observe::series_text(s.name, s.labels);
    const std::string shown = name.empty() ? "{}" : name;
    if (ranged) {
      const RangeFigures f = range_figures(s);
      std::printf("  %s  points %zu  min %s  avg %s  max %s  last %s\n", shown.c_str(), f.points,
                  short_number(f.min).c_str(), short_number(f.avg).c_str(),
                  short_number(f.max).c_str(), short_number(f.last).c_str());
    } else {
      std::printf("  %s  %s\n", shown.c_str(),
                  s.points.empty() ? "" : number(s.points.front().value).c_str());
    }
  }
  std::printf("\n%zu series\n", answer.series.size());
  return 0;
}

int inspect_command(int argc, char** argv) {
  cxxopts::Options opts(
      "faultline inspect",
      "Print what faultline reads, to help write server assertions: the metric families of a\n"
      "/metrics endpoint or an exposition file, parsed exactly as faultline parses scrapes, or\n"
      "the answer of a PromQL query to Prometheus, read as `observe: {source: prometheus}`\n"
      "reads it. Per family: type, help, number of series and the figures: a counter's or\n"
      "gauge's value summed over series, a histogram's count, sum and p50/p90/p99 computed\n"
      "like histogram_quantile over its cumulative buckets (since the process started).\n\n"
      "TARGET is a URL (loopback only; no path means /metrics), a file, or - for stdin. With\n"
      "--query, TARGET (or --prometheus) is a Prometheus base URL.\n\n"
      "Examples:\n"
      "  faultline inspect http://127.0.0.1:8080/metrics\n"
      "  faultline inspect metrics.txt --family http_request_duration_seconds --series\n"
      "  curl -s 127.0.0.1:8080/metrics | faultline inspect - --match "
      "'http_requests_total{code=~\"5..\"}'\n"
      "  faultline inspect http://127.0.0.1:9090 --query 'rate(http_requests_total[1m])'\n"
      "  faultline inspect --prometheus http://127.0.0.1:9090 --query up --range 5m --step 15s\n"
      "  faultline inspect big.txt --stats > /dev/null      # parse throughput, on stderr\n\n"
      "Exit codes: 0 ok, 1 the target answered something unusable (a parse error at\n"
      "line:col, an HTTP or Prometheus API error), 2 usage (including a URL that is not\n"
      "loopback), 3 the target did not answer.\n");
  opts.custom_help("TARGET [options] | --prometheus URL --query EXPR [options]");
  opts.add_options()("family", "only the family with this name",
                     cxxopts::value<std::string>()->default_value(""))(
      "match", "only samples this selector matches, e.g. 'name{label=\"x\"}' (repeatable: any)",
      cxxopts::value<std::vector<std::string>>())("series",
                                                  "also print every series (labels and figures)")(
      "format", "text or json", cxxopts::value<std::string>()->default_value("text"))(
      "stats", "print parse time, bytes, samples and MB/s to stderr")(
      "timeout", "how long to wait for a /metrics endpoint",
      cxxopts::value<std::string>()->default_value("10s"))(
      "prometheus", "Prometheus base URL (loopback) to send --query to",
      cxxopts::value<std::string>())("query", "a PromQL expression", cxxopts::value<std::string>())(
      "time", "evaluation time: Unix seconds, now or now-DURATION",
      cxxopts::value<std::string>()->default_value("now"))(
      "range", "a range query over this long up to --time, e.g. 5m (per series min/avg/max/last)",
      cxxopts::value<std::string>())("step", "with --range: the resolution",
                                     cxxopts::value<std::string>()->default_value("15s"))(
      "h,help", "show this help")("target", "", cxxopts::value<std::string>());
  opts.parse_positional({"target"});
  auto result = parse_or_usage(opts, argc, argv);
  if (result.count("help")) {
    std::cout << opts.help();
    return 0;
  }
  const std::string format = result["format"].as<std::string>();
  if (format != "text" && format != "json") throw UsageError("--format is text or json");
  const std::string target = result.count("target") ? result["target"].as<std::string>() : "";
  const bool query = result.count("query") > 0;
  if (result.count("prometheus")) {
    if (!target.empty())
      throw UsageError("give either TARGET or --prometheus, not both (see --help)");
    if (!query) throw UsageError("--prometheus needs --query EXPR");
  }
  if (query) {
    const std::string base =
        result.count("prometheus") ? result["prometheus"].as<std::string>() : target;
    if (base.find("://") == std::string::npos)
      throw UsageError("--query needs a Prometheus base URL (TARGET or --prometheus)");
    if (result.count("match") || result.count("family") || result.count("series") ||
        result.count("stats"))
      throw UsageError("--match, --family, --series and --stats read an exposition, not --query");
    return inspect_query(base, result["query"].as<std::string>(), result);
  }
  if (result.count("range") || result.count("time"))
    throw UsageError("--range and --time go with --query");
  if (target.empty()) throw UsageError("inspect needs a TARGET: a URL, a file or - (see --help)");
  return inspect_exposition(target, result);
}

const CommandRegistration kInspect({"inspect",
                                    "print what faultline reads from /metrics or a Prometheus "
                                    "query",
                                    37, &inspect_command});

}  // namespace
}  // namespace faultline::cli
