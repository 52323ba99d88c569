#include "report/junit.h"

#include <chrono>
#include <cstdio>

namespace faultline::junit {

namespace {

std::string seconds_text(double s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

}  // namespace

std::string xml_escape(std::string_view text) {
  std::string o;
  o.reserve(text.size());
  for (unsigned char ch : text) {
    switch (ch) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&apos;";
        break;
      default:
        // XML 1.0 allows no control characters but tab, newline and carriage return.
        if (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r')
          o += '?';
        else
          o += static_cast<char>(ch);
    }
  }
  return o;
}

std::string to_xml(const std::string& suites_name, const TestSuite& suite) {
  size_t failures = 0, errors = 0, skipped = 0;
  for (const auto& c : suite.cases) {
    failures += c.outcome == TestCase::Outcome::kFailure;
    errors += c.outcome == TestCase::Outcome::kError;
    skipped += c.outcome == TestCase::Outcome::kSkipped;
  }
  const std::string counts = " tests=\"" + std::to_string(suite.cases.size()) + "\" failures=\"" +
                             std::to_string(failures) + "\" errors=\"" + std::to_string(errors) +
                             "\"" +
                             (skipped ? " skipped=\"" + std::to_string(skipped) + "\"" : "") +
                             " time=\"" + seconds_text(suite.time_s) + "\"";
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += "<testsuites name=\"" + xml_escape(suites_name) + "\"" + counts + ">\n";
  x += "  <testsuite name=\"" + xml_escape(suite.name) + "\"" + counts +
       (suite.timestamp.empty() ? "" : " timestamp=\"" + xml_escape(suite.timestamp) + "\"") +
       ">\n";
  for (const auto& c : suite.cases) {
    x += "    <testcase classname=\"" + xml_escape(c.classname) + "\" name=\"" +
         xml_escape(c.name) + "\" time=\"" + seconds_text(c.time_s) + "\">\n";
    if (!c.properties.empty()) {
      x += "      <properties>\n";
      for (const auto& [name, value] : c.properties)
        x += "        <property name=\"" + xml_escape(name) + "\" value=\"" + xml_escape(value) +
             "\"/>\n";
      x += "      </properties>\n";
    }
    const char* tag = c.outcome == TestCase::Outcome::kFailure   ? "failure"
                      : c.outcome == TestCase::Outcome::kError   ? "error"
                      : c.outcome == TestCase::Outcome::kSkipped ? "skipped"
                                                                 : nullptr;
    if (tag)
      x += std::string("      <") + tag + " message=\"" + xml_escape(c.message) + "\" type=\"" +
           xml_escape(c.type) + "\">" + xml_escape(c.body) + "</" + tag + ">\n";
    x += "    </testcase>\n";
  }
  x += "  </testsuite>\n</testsuites>\n";
  return x;
}

}  // namespace faultline::junit

namespace faultline {

std::string observed_text(const AssertionReport& a) {
  std::string out;
  for (const auto& o : a.observed) {
    if (!out.empty()) out += "; ";
    out += o.what;
    if (!o.window.empty() && o.window != a.window) out += " " + o.window;
    out += " = " + (o.value ? o.display : "none");
    out += " (n=" + std::to_string(o.samples) + ")";
    if (!o.value && !o.note.empty()) out += ": " + o.note;
  }
  return out;
}

junit::TestSuite run_junit_suite(const RunReport& r, const std::string& artifact) {
  using junit::TestCase;
  junit::TestSuite suite;
  suite.name = r.scenario + (r.tag.empty() ? "" : " [" + r.tag + "]");
  suite.timestamp = r.started_at;
  suite.time_s = std::chrono::duration<double>(r.actual_duration).count();
  const std::string classname = "faultline." + r.scenario;
  for (const auto& a : r.assertions) {
    TestCase c;
    c.classname = classname;
    c.name = a.text;
    const char* verdict = a.status == judge::VerdictStatus::kPass   ? "pass"
                          : a.status == judge::VerdictStatus::kFail ? "fail"
                                                                    : "inconclusive";
    c.properties = {{"verdict", verdict},
                    {"observed", observed_text(a)},
                    {"window", a.window + " " + format_duration(a.window_start) + ".." +
                                   format_duration(a.window_end)},
                    {"expected", a.expected},
                    {"source", a.source},
                    {"artifact", artifact}};
    if (a.status != judge::VerdictStatus::kPass) {
      c.outcome = TestCase::Outcome::kFailure;
      c.type = verdict;
      c.message = a.message;
      c.body = a.source + ": " + a.text + "\nobserved: " + observed_text(a) + "\n";
    }
    suite.cases.push_back(std::move(c));
  }
  if (!r.abort_condition.empty()) {
    TestCase c;
    c.classname = classname;
    c.name = "abort_if: " + r.abort_condition;
    c.properties = {{"fired_at", format_duration(r.aborted_at)}, {"artifact", artifact}};
    c.outcome = TestCase::Outcome::kFailure;
    c.type = "abort";
    c.message = "fired at " + format_duration(r.aborted_at) + " and ended the run";
    c.body = r.status_detail;
    suite.cases.push_back(std::move(c));
  }
  if (r.status == RunStatus::kEnvironmentError || r.status == RunStatus::kInterrupted) {
    TestCase c;
    c.classname = classname;
    c.name = "run";
    c.properties = {{"status", run_status_name(r.status)}, {"artifact", artifact}};
    c.outcome = TestCase::Outcome::kError;
    c.type = run_status_name(r.status);
    c.message = r.status_detail.empty() ? run_status_name(r.status) : r.status_detail;
    suite.cases.push_back(std::move(c));
  }
  return suite;
}

}  // namespace faultline
