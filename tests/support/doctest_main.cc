// The main() of every doctest binary. Two additions to doctest's own:
//
// - A run whose filters select no test case fails. doctest exits 0 when --test-case matches
//   nothing, so a CTest entry whose name does not match its case (a name CTest split at ';',
//   a renamed case with a stale filter) would pass while testing nothing.
// - A listener records failures, so TempDir (temp_dir.h) keeps a failed test's files.
// It also defines how messages print C strings (doctest_strings.h).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

#include "temp_dir.h"

namespace doctest {

String StringMaker<const char*>::convert(const char* text) {
  return text != nullptr ? String(text) : String("(null)");
}

String StringMaker<char*>::convert(const char* text) {
  return text != nullptr ? String(text) : String("(null)");
}

}  // namespace doctest

namespace {

// Set by the listener when a test run (not a query such as --list-test-cases) ends.
bool g_run_ended = false;
unsigned g_cases_selected = 0;

class FailureListener : public doctest::IReporter {
 public:
  explicit FailureListener(const doctest::ContextOptions&) {}

  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    g_run_ended = true;
    g_cases_selected = stats.numTestCasesPassingFilters;
  }
  void test_case_start(const doctest::TestCaseData&) override {
    faultline::testing::note_test_case_start();
  }
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& stats) override {
    if (stats.failure_flags != doctest::TestCaseFailureReason::None &&
        !(stats.failure_flags & doctest::TestCaseFailureReason::ShouldHaveFailedAndDid)) {
      faultline::testing::note_failure();
    }
    faultline::testing::note_test_case_end();
  }
  void test_case_exception(const doctest::TestCaseException&) override {
    faultline::testing::note_failure();
  }
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData& data) override {
    if (data.m_failed) faultline::testing::note_failure();
  }
  void log_message(const doctest::MessageData& data) override {
    // MESSAGE/WARN are informational; FAIL_CHECK and FAIL count as failed assertions.
    if (!(data.m_severity & doctest::assertType::is_warn)) faultline::testing::note_failure();
  }
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

DOCTEST_REGISTER_LISTENER("faultline-failures", 1, FailureListener);

int main(int argc, char** argv) {
  // Under GitHub Actions every faultline a test starts would append its summary to the CI
  // page; tests that check that append set the variable for their own child only.
  unsetenv("GITHUB_STEP_SUMMARY");
  doctest::Context context(argc, argv);
  const int rc = context.run();
  if (context.shouldExit()) return rc;  // --help, --version and the like
  if (g_run_ended && g_cases_selected == 0) {
    std::fprintf(stderr,
                 "error: no test case matched the filters, so nothing was tested (a test name "
                 "with ';' that CTest split, or a filter naming a case that does not exist?)\n");
    return rc != 0 ? rc : 1;
  }
  return rc;
}
