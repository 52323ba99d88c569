// Flags shared by the commands that compile a plan (run, plan): --seed, --qps, --duration,
// --set, --env. Parsed once here so they mean the same everywhere.
#pragma once

#include <cxxopts.hpp>
#include <map>
#include <string>

#include "plan/plan.h"
#include "spec/loader.h"

namespace faultline::cli {

void add_plan_flags(cxxopts::Options& options);

// Fills the load options and plan overrides; `as_text` records the flags as given.
// Throws UsageError for malformed values.
void read_plan_flags(const cxxopts::ParseResult& result, LoadOptions* load,
                     PlanOverrides* overrides, std::map<std::string, std::string>* as_text);

// The --set NAME=VALUE pairs as given (values may contain commas). Throws UsageError.
std::map<std::string, std::string> set_variables(const cxxopts::ParseResult& result);

// cxxopts parse with its exceptions turned into UsageError (exit 2) with a hint.
cxxopts::ParseResult parse_or_usage(cxxopts::Options& options, int argc, char** argv);

}  // namespace faultline::cli
