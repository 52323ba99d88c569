// The project's error convention, chosen once: internal failures are exceptions. Errors that
// reach users derive from faultline::Error and carry the exit code they map to
// (../shared/DESIGN.md "Exit codes"); their message names a place and a next step.
#pragma once

#include <stdexcept>
#include <string>

namespace faultline {

enum class ExitCode : int {
  kPass = 0,
  kFailed = 1,        // assertions failed or inconclusive
  kInvalid = 2,       // invalid spec or usage
  kEnvironment = 3,   // target unreachable, fault endpoint refused, service failed to start
  kInterrupted = 130  // SIGINT/SIGTERM, after cleanup
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// Bad command line or bad spec.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& m) : Error(ExitCode::kInvalid, m) {}
};

// The world outside the spec is not as needed: a service is down, a port is taken, a knob is
// missing from a catalog.
class EnvironmentError : public Error {
 public:
  explicit EnvironmentError(const std::string& m) : Error(ExitCode::kEnvironment, m) {}
};

}  // namespace faultline
