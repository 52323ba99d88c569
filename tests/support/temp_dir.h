// TempDir: a fresh, empty directory for one test's files, under $TMPDIR (default /tmp) and
// named faultline-<name>-XXXXXX so that leftovers are easy to attribute.
//
// The destructor removes it with everything inside, unless the test failed: then the files
// stay for a post-mortem and their place is printed on stderr. "Failed" means a failed
// assertion of the current doctest case (reported by the listener in doctest_main.cc), an
// exception unwinding through the owner, or, outside a test case, any failure so far in the
// process. FAULTLINE_KEEP_TEMP=1 keeps every directory.
//
// Movable, not copyable: exactly one owner removes the directory.
#pragma once

#include <string>

namespace faultline::testing {

class TempDir {
 public:
  // Creates the directory. Throws std::runtime_error when it cannot.
  explicit TempDir(const std::string& name);
  ~TempDir();
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Absolute path, without a trailing slash. Empty after a move.
  const std::string& path() const { return path_; }
  // path() + "/" + leaf.
  std::string operator/(const std::string& leaf) const { return path_ + "/" + leaf; }

 private:
  void release();

  std::string path_;
  int uncaught_at_creation_ = 0;
};

// Failure bookkeeping, fed by the doctest listener (doctest_main.cc). A binary without that
// listener (e.g. a figures tool linking the test cluster) never counts as failed.
void note_test_case_start();
void note_test_case_end();
void note_failure();
// Whether the current test case has failed so far; outside a test case, whether any has.
bool test_has_failed();

}  // namespace faultline::testing
