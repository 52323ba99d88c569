// The parts of Prometheus' HTTP API (v1) that faultline reads: instant queries
// (/api/v1/query) and range queries (/api/v1/query_range), and their JSON answers. Pure: this
// builds request bodies and reads answers; the caller does the HTTP (run/prometheus_pull.h,
// `faultline inspect`).
//
// Both queries are sent as POST with a form body, which Prometheus accepts on the same paths
// and which keeps long selectors out of URLs and access logs.
//
// Times on the wire are Unix seconds with a fraction; Prometheus works in milliseconds, so
// everything here is integer Unix milliseconds. A range query evaluates at start, start+step,
// ... up to end, at most kMaxRangePoints times per series (Prometheus refuses more than 11,000).
//
// Answers are outside input: a body that is not the API's JSON, an error answer
// ({"status":"error","errorType":...,"error":...}) or a value that is not a number throws
// PrometheusApiError with what was wrong, and nothing is returned half-read.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "observe/metrics_text.h"

namespace faultline::observe {

inline constexpr int64_t kMaxRangePoints = 10000;

class PrometheusApiError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PromPoint {
  int64_t t_ms = 0;
  double value = 0;  // NaN and +-Inf as Prometheus sent them
};

// One series of an answer. `name` is the __name__ label ("" when the expression dropped it,
// as rate() and sum() do); `labels` are the others, sorted by name.
struct PromSeries {
  std::string name;
  Labels labels;
  std::vector<PromPoint> points;  // a vector answer: one point; a matrix: in time order
};

struct PromAnswer {
  std::string result_type;  // "vector", "matrix", "scalar" or "string"
  // A scalar answer is one series with no name and no labels; a string answer has none.
  std::vector<PromSeries> series;
  std::vector<std::string> warnings;
};

// application/x-www-form-urlencoded: unreserved bytes as they are, space as '+', the rest %XX.
std::string form_encode(std::string_view text);

// Form bodies for POST /api/v1/query and /api/v1/query_range.
std::string instant_query_form(std::string_view expr, int64_t time_ms);
// REQUIRES: step_ms > 0 and start_ms <= end_ms.
std::string range_query_form(std::string_view expr, int64_t start_ms, int64_t end_ms,
                             int64_t step_ms);

// Reads an answer of either query. `http_status` is the HTTP status it came with: Prometheus
// answers errors with 400, 422 or 503 and an error body, which is reported as
// "bad_data: parse error at char 5: ..." (or, for a body that is not the API's, as the status
// and the start of the body). Throws PrometheusApiError.
PromAnswer parse_prometheus_answer(std::string_view body, long http_status);

// What GET /api/v1/rules says about the alerting rules: their names, and for each when its
// group was last evaluated (Unix ms; 0 when never). Throws PrometheusApiError.
struct PromAlertRule {
  std::string name;
  int64_t last_evaluation_ms = 0;
};
std::vector<PromAlertRule> parse_alerting_rules(std::string_view body, long http_status);

// An RFC 3339 time as Prometheus writes it ("2026-11-30T22:50:01.123456789Z", or with an
// offset like "+01:00") in Unix milliseconds; nullopt when it is not one. Go's zero time
// ("0001-01-01T00:00:00Z", a group never evaluated) gives 0.
std::optional<int64_t> parse_rfc3339_ms(std::string_view text);

// The samples of `series` at the point whose time is `t_ms`, as a text exposition
// (metrics_text.h) a ScrapeStore reads like a scrape: one line per series that has a point at
// that time, grouped by family, with a `# TYPE <family> histogram` line ahead of a family
// whose samples include <family>_bucket series with an `le` label. Series without a name are
// skipped. Label values are escaped as the text format wants; values keep NaN and +-Inf.
std::string exposition_at(const std::vector<PromSeries>& series, int64_t t_ms);

// A double as the text format and the API write it: shortest round-trip form, "NaN", "+Inf",
// "-Inf".
std::string prometheus_number(double v);

}  // namespace faultline::observe
