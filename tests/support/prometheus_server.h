// A real Prometheus (Debian's binary) for tests: started on a free loopback port with a
// generated config that scrapes the given targets every second, stopped by PID (process group)
// when it goes. Shared by the Prometheus-source end-to-end test and `faultline inspect`'s
// tests; link the CMake target faultline_test_prometheus (defined where the prometheus binary
// was found, tests/prometheus/CMakeLists.txt).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "demo_cluster.h"
#include "temp_dir.h"

namespace faultline::testing {

struct PrometheusServer : LoopbackServer {
  // `targets`: job name -> base URL ("http://127.0.0.1:<port>") scraped at /metrics.
  // `rule_files`: alerting/recording rule files it evaluates (absolute paths).
  // Throws EnvironmentError (with the log's tail) when it never becomes ready.
  PrometheusServer(const TempDir& dir, const std::map<std::string, std::string>& targets,
                   const std::vector<std::string>& rule_files = {});

  // Writes <dir>/prometheus.yml (scrape and evaluation interval 1 s) and returns its path.
  static std::string write_config(const TempDir& dir,
                                  const std::map<std::string, std::string>& targets,
                                  const std::vector<std::string>& rule_files = {});

  // How many series of `expr` Prometheus holds now with value 1.
  size_t count_up(const std::string& expr) const;
};

}  // namespace faultline::testing
