#include "faultline_runs.h"

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "demo_cluster.h"
#include "report_schema.h"

namespace faultline::testing {

namespace fs = std::filesystem;

std::string faultline_binary() {
  return FAULTLINE_CLI;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Run::status() const {
  return report.IsObject() && report.HasMember("status") ? report["status"].GetString()
                                                         : "(no artifact)";
}

ChildProcess start_faultline(const std::vector<std::string>& args, const std::string& dir) {
  ChildSpec spec;
  spec.argv = {faultline_binary()};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.argv.push_back("--artifacts");
  spec.argv.push_back(dir + "/artifacts");
  spec.cwd = FAULTLINE_SOURCE_DIR;
  spec.env = {{"FAULTLINE_DEMO_BIN", demo_binary_path()}};
  spec.stdout_path = dir + "/faultline.out";
  // Each run's output starts empty, so finish_faultline reads only this run's.
  fs::remove(spec.stdout_path);
  return ChildProcess::spawn(spec);
}

Run finish_faultline(ChildProcess& p, const std::string& dir, std::chrono::seconds limit) {
  Run r;
  const auto status = p.wait_for_exit(limit);
  if (!status) {
    p.stop();
    FAIL("faultline did not finish within " << limit.count() << "s:\n" << p.log_tail(4000));
  }
  r.exit_code = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
  r.output = read_file(dir + "/faultline.out");
  // The artifact this run wrote: faultline prints its path on the last "artifact:" line.
  for (size_t pos = r.output.rfind("\nartifact: "); pos != std::string::npos;) {
    const size_t start = pos + 11;
    r.artifact = r.output.substr(start, r.output.find('\n', start) - start);
    break;
  }
  if (!r.artifact.empty()) {
    const std::string json = read_file(r.artifact);
    CHECK_MESSAGE(report_schema_problem(json) == "", "artifact " << r.artifact);
    r.report.Parse(json.c_str());
  }
  return r;
}

Run run_faultline_in(const std::vector<std::string>& args, const std::string& dir,
                     std::chrono::seconds limit) {
  ChildProcess p = start_faultline(args, dir);
  return finish_faultline(p, dir, limit);
}

Run run_faultline(const std::vector<std::string>& args, const std::string& name,
                  std::chrono::seconds limit) {
  TempDir dir("e2e-" + name);
  Run r = run_faultline_in(args, dir.path(), limit);
  r.dir.emplace(std::move(dir));
  return r;
}

}  // namespace faultline::testing
