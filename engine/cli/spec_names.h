// Bare scenario names: `faultline run latency-tail` means specs/latency-tail.yaml, the rule
// `make chaos SCENARIO=latency-tail` and `faultline compare latency-tail` already follow. One
// place says it so every command that takes a spec (run, plan, validate, new --from) and a
// matrix file (specs/matrix/NAME.yaml) resolves a name the same way.
#pragma once

#include <string>

namespace faultline::cli {

inline constexpr const char* kSpecsDir = "specs";
inline constexpr const char* kMatricesDir = "specs/matrix";

// Whether `arg` is written as a name rather than a path: no '/' and no .yaml/.yml/.json end.
bool is_bare_name(const std::string& arg);

// `arg` itself when it names an existing file or is not a bare name; else DIR/NAME.yaml (or
// .yml) when that exists; else `arg` unchanged, so the loader reports the file as missing
// under the name the user typed.
std::string resolve_spec_arg(const std::string& arg, const std::string& dir = kSpecsDir);

// The path a bare name stands for, whether or not it exists: DIR/NAME.yaml (for hints).
std::string spec_path_of(const std::string& name, const std::string& dir = kSpecsDir);

}  // namespace faultline::cli
