#include "temp_dir.h"

#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <utility>

namespace faultline::testing {

namespace {

namespace fs = std::filesystem;

// Asserts may fail on any thread of a test, so the flags are atomics.
std::atomic<bool> g_in_test_case{false};
std::atomic<bool> g_case_failed{false};
std::atomic<bool> g_any_failed{false};

bool keep_everything() {
  const char* v = std::getenv("FAULTLINE_KEEP_TEMP");
  return v != nullptr && std::string(v) == "1";
}

}  // namespace

void note_test_case_start() {
  g_in_test_case = true;
  g_case_failed = false;
}

void note_test_case_end() {
  g_in_test_case = false;
}

void note_failure() {
  g_case_failed = true;
  g_any_failed = true;
}

bool test_has_failed() {
  return g_in_test_case ? g_case_failed.load() : g_any_failed.load();
}

TempDir::TempDir(const std::string& name) : uncaught_at_creation_(std::uncaught_exceptions()) {
  std::string pattern = (fs::temp_directory_path() / ("faultline-" + name + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary directory " + pattern);
  }
  path_ = std::move(pattern);
}

TempDir::~TempDir() {
  release();
}

TempDir::TempDir(TempDir&& other) noexcept
    : path_(std::exchange(other.path_, std::string())),
      uncaught_at_creation_(other.uncaught_at_creation_) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    release();
    path_ = std::exchange(other.path_, std::string());
    uncaught_at_creation_ = other.uncaught_at_creation_;
  }
  return *this;
}

void TempDir::release() {
  if (path_.empty()) return;
  const bool unwinding = std::uncaught_exceptions() > uncaught_at_creation_;
  if (test_has_failed() || unwinding || keep_everything()) {
    std::fprintf(stderr, "kept the test's files in %s\n", path_.c_str());
  } else {
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (ec) std::fprintf(stderr, "cannot remove %s: %s\n", path_.c_str(), ec.message().c_str());
  }
  path_.clear();
}

}  // namespace faultline::testing
