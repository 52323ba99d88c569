// --push and its companions (--push-label, --push-allow-remote, --push-timeout), shared by
// `run`, which pushes its artifact, and `matrix`, which hands them to every cell's run.
#pragma once

#include <cxxopts.hpp>
#include <optional>
#include <string>

#include "run/push.h"

namespace faultline::cli {

// Adds the flags in a "push" group. `note` ends the --push description (what is pushed).
void add_push_flags(cxxopts::Options& options, const std::string& note = "");

// True when --push was given. Throws UsageError when a companion flag came without it.
bool push_requested(const cxxopts::ParseResult& result);

// The push target the flags ask for, checked before anything runs; nullopt without --push.
// Throws UsageError for a malformed label or timeout, or a target push_target_problem refuses.
std::optional<PushTarget> read_push_flags(const cxxopts::ParseResult& result);

}  // namespace faultline::cli
