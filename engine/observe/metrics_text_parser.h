// MetricsTextParser: the Prometheus text exposition format 0.0.4, as Prometheus 2.42's scraper
// reads it (model/textparse/promparse.go and promlex.l), into an Exposition (metrics_text.h).
//
// What is accepted, and the decisions where the format leaves room:
//  - Lines: `# HELP name text`, `# TYPE name type`, other `#` lines (comments, including
//    OpenMetrics' `# EOF`, which has no meaning in 0.0.4) are ignored, blank and
//    whitespace-only lines are skipped. Spaces and tabs may stand between any two tokens of a
//    sample line and before `#`.
//  - Names: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*.
//  - Label values: double-quoted; `\\`, `\"` and `\n` are unescaped; any other backslash pair
//    is kept verbatim (Prometheus does the same); a raw newline inside the quotes is part of
//    the value; the bytes must be valid UTF-8. A trailing comma and `{}` are accepted.
//    Label pairs must be separated by commas (Prometheus 2.42 also accepts pairs separated only
//    by spaces, which its authors call an accident; faultline rejects that).
//  - Values: Go's strconv.ParseFloat syntax minus what Prometheus excludes: decimal with
//    optional sign, fraction and exponent; Inf/Infinity with optional sign and NaN, any case.
//    No hex floats (Prometheus rejects `p`), no `_` digit separators, no spaces. A value that
//    overflows a double is an error (as in Go); one that underflows becomes 0 or subnormal.
//    Every NaN is stored as the quiet NaN.
//  - Timestamp: optional, decimal digits only (no sign: Prometheus' lexer rejects `-`), must
//    fit int64 milliseconds. Kept in the sample but not used by faultline's queries.
//  - HELP: the text is everything after the one space or tab that follows the name (further
//    leading spaces belong to the text), `\\` and `\n` unescaped, valid UTF-8. TYPE: exactly
//    one of counter, gauge, histogram, summary, untyped after that separator.
//  - Line ends: `\n`. With Options::accept_crlf (the default) one `\r` before a `\n` is
//    dropped, so Windows-style exporters work; Prometheus 2.42 fails such scrapes (its value
//    token would end in `\r`). Set it false to behave exactly like Prometheus.
//  - Families: a sample joins the family of the same name; otherwise `x_bucket`, `x_sum`,
//    `x_count` join a histogram family `x`, and `x_sum`, `x_count` a summary family `x`;
//    otherwise it starts an untyped family of its own name (a missing TYPE means untyped).
//    A `quantile` or `le` label is kept as an ordinary label.
//  - Errors fail the whole scrape, as in Prometheus (a scrape is atomic: one bad line and no
//    sample of it is stored). The error names the line and column and what was expected.
//    Besides syntax: a repeated label name in one sample; a second TYPE line for a family
//    with a different type, or a TYPE line after samples of that name, or of its _bucket/_sum/
//    _count names when those formed a family without a HELP or TYPE line (both ambiguous for
//    family grouping; Prometheus' scraper ignores them, `promtool check metrics` rejects them).
//    A repeated series is not an error: the first value is kept (Prometheus rejects the later
//    sample as a duplicate and keeps the scrape).
//
// Cost: one pass over the bytes, no regex. A sample's labels stay views into the text until the
// sample is known to be a new series; then its strings are built once, at their final size, and
// they are the only per-sample allocations (with the output vectors' growth). Repeated series
// are found through hash tables per sample name (metrics_text_scratch.h). A parser keeps its
// scratch buffers from one parse to the next, so reuse one parser for a target's scrapes.
// Thread-safety: because of that scratch, use one parser per thread.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "observe/metrics_text.h"
#include "observe/metrics_text_scratch.h"

namespace faultline::observe {

// A scrape that is not valid text format. what() reads "line 12:7: expected ... , got ...".
class MetricsTextError : public std::runtime_error {
 public:
  MetricsTextError(int line, int column, const std::string& message);
  int line() const { return line_; }      // 1-based
  int column() const { return column_; }  // 1-based, in bytes
  const std::string& detail() const { return detail_; }

 private:
  int line_;
  int column_;
  std::string detail_;
};

class MetricsTextParser {
 public:
  struct Options {
    bool accept_crlf = true;  // see the header comment
  };

  MetricsTextParser() : MetricsTextParser(Options{}) {}
  explicit MetricsTextParser(Options options) : options_(options) {}

  // Parses one whole scrape body. Throws MetricsTextError.
  Exposition parse(std::string_view text);

 private:
  Options options_;
  MetricsTextScratch scratch_;  // empty between parses except for memory kept for reuse
};

// A float in the exposition's syntax (see above), e.g. a value or an `le` label: nullopt when
// the text is not one.
std::optional<double> parse_exposition_float(std::string_view text);

}  // namespace faultline::observe
