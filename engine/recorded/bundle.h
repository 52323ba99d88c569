// Where a recorded run lives on disk: the one place that spells artifact names and bundle
// paths. A run writes `<dir>/incident-<scenario>-<UTC>.json` (the artifact) and a directory of
// the same stem beside it (the bundle):
//
//   plan.json          the plan, with its hash (rebuilds the exact schedule)
//   samples.csv.gz     one line per arrival (observe/sample_log.h)
//   scrapes.txt.gz     every scrape, verbatim, in tick order (observe/scrape_log.h)
//   scrapes/<job>-<plan time>.prom   raw /metrics bodies at phase boundaries
//   logs/<service>.log service output, exec hook output
//   hooks/<name>.out   a setup or verify hook's output: exec stdout, or the HTTP body
//   hooks/<name>.err   an exec hook's stderr
//   hooks/<name>.status.json  how it went (read_hook_status); judge reads verify output here
//
// judge, compare, replay and merge read runs through this header and recorded_run.h, never
// through the run stage.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/units.h"
#include "report/report.h"

namespace faultline {

// Paths inside one bundle directory. A value type: building one touches no disk.
struct BundleLayout {
  std::string dir;

  std::string plan_json() const { return dir + "/plan.json"; }
  std::string samples() const { return dir + "/samples.csv.gz"; }
  std::string scrape_log() const { return dir + "/scrapes.txt.gz"; }
  std::string logs_dir() const { return dir + "/logs"; }
  std::string snapshots_dir() const { return dir + "/scrapes"; }
  std::string hooks_dir() const { return dir + "/hooks"; }
  std::string hook_output(const std::string& name) const {
    return hooks_dir() + "/" + name + ".out";
  }
  std::string hook_stderr(const std::string& name) const {
    return hooks_dir() + "/" + name + ".err";
  }
  std::string hook_status(const std::string& name) const {
    return hooks_dir() + "/" + name + ".status.json";
  }
  // A raw /metrics body of `job` scraped at plan time `at`.
  std::string snapshot(const std::string& job, Duration at) const;
};

// The files of a new run: the artifact path, the bundle, and their shared stem.
struct RunFiles {
  std::string stem;      // "incident-latency-tail-20261130T101500Z"
  std::string artifact;  // "<dir>/<stem>.json"
  BundleLayout bundle;   // "<dir>/<stem>"
};

// Picks names for a run of `scenario` started at `started` (UTC, second resolution; a second
// run in the same second gets "-2" and so on), and creates the bundle's directories.
// Throws EnvironmentError when the directory cannot be created.
RunFiles create_run_files(const std::string& dir, const std::string& scenario,
                          std::chrono::system_clock::time_point started);

// A fresh, unused path `<dir>/<prefix>-<scenario>-<UTC>.json` for other artifacts (compare).
std::string new_artifact_path(const std::string& dir, const std::string& prefix,
                              const std::string& scenario, std::chrono::system_clock::time_point t);

// "2026-11-30T10:15:00Z" (compact: "20261130T101500Z").
std::string utc_stamp(std::chrono::system_clock::time_point t, bool compact);

// Files below the bundle directory, relative to it, sorted.
std::vector<std::string> list_bundle_files(const BundleLayout& bundle);

// Saves a raw /metrics body as BundleLayout::snapshot(job, at). Best effort: a snapshot is a
// convenience copy (scrapes.txt.gz holds every scrape), so a failed write returns false.
bool save_scrape_snapshot(const BundleLayout& bundle, const std::string& job, Duration at,
                          const std::string& body);

// Writes how a hook went (its HookRecord without the output) as hooks/<name>.status.json,
// atomically. Throws EnvironmentError when it cannot.
void write_hook_status(const BundleLayout& bundle, const HookRecord& hook);

// The record of hook `name` from the bundle (status and output), or nullopt with *why set
// when its status file is missing or damaged.
std::optional<HookRecord> read_hook_record(const BundleLayout& bundle, const std::string& name,
                                           std::string* why);

}  // namespace faultline
