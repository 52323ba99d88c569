// The HTML report: one self-contained file (inline CSS and SVG, no script, no URL it would
// load) that shows a run, a comparison or a matrix to people.
//
// Every report is built from the artifact alone (and, for a run, its bundle: samples.csv.gz,
// scrapes.txt.gz, plan.json), so `faultline report ARTIFACT --html` gives the same page the
// command that wrote the artifact did. The file is written beside the artifact, with the
// artifact's name and ".html" (html_path_for).
//
// A run report charts over plan time, per time bin (1 s, wider for long runs so there are at
// most kMaxBins): client latency p50/p95/p99, throughput, errors by class, and per scrape tick
// the server metrics of every target (the plan's observe.metrics: rate of counters, last value
// of gauges, p95 of histograms), each with the phases as labelled bands and the fault events
// as markers. Then tables: assertions, phases, routes, send lateness, slowest requests, error
// signatures, scrape failures. Memory is bounded by the bins, not by the run's length.
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/units.h"
#include "observe/latency_histogram.h"
#include "observe/sample_record.h"

namespace faultline::html {

inline constexpr size_t kMaxBins = 900;

// Client samples in fixed-width bins of plan time (by intended send time).
// Invariant: bins.size() == ceil(total / width), width a whole number of seconds >= 1.
class ClientBins {
 public:
  struct Bin {
    observe::LatencyHistogram latency;      // of requests that got a response or a transport error
    int64_t completed = 0;                  // got a response
    std::map<std::string, int64_t> errors;  // "5xx", "timeout", ... -> n
  };

  // REQUIRES: max_bins >= 1.
  explicit ClientBins(Duration total, size_t max_bins = kMaxBins);

  // Samples outside [0, total) go to the nearest bin; dropped and aborted samples count only
  // as errors of their class (their latency is not the target's).
  void add(const observe::SampleRecord& s);

  Duration width() const { return width_; }
  const std::vector<Bin>& bins() const { return bins_; }
  double width_s() const { return static_cast<double>(width_.count()) / 1e6; }

 private:
  Duration width_;
  std::vector<Bin> bins_;
};

// The error class of a sample for the errors chart: its transport class ("timeout",
// "dropped", ...), else "5xx"/"4xx" by status, else "" (not an error).
std::string error_class_of(const observe::SampleRecord& s);

// "<artifact without .json>.html"; for a bundle directory "<dir>.html".
std::string html_path_for(const std::string& artifact_path);

// The page for the artifact at `artifact_path`: a run artifact (with its bundle), a comparison
// (kind "comparison") or a matrix artifact (has "cells"); or, given a bundle directory, the
// charts of a run killed before it wrote its artifact. Throws UsageError naming the file
// when it cannot be read or is none of those.
std::string report_html(const std::string& artifact_path);

// Writes report_html(artifact_path) to `out_path` (default: html_path_for) atomically and
// returns the path written. What `run`, `compare`, `matrix` and `report --html` call.
std::string write_html_report(const std::string& artifact_path, const std::string& out_path = "");

// What run, compare and matrix call once their artifact is written: write_html_report beside
// it. The page is a view of the artifact, so failing to write it must not change the verdict
// or the exit code: a failure is printed to `err` ("html: not written: ...") and gives "".
std::string write_html_beside(const std::string& artifact_path, std::FILE* err);

}  // namespace faultline::html
