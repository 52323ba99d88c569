#include "prometheus_server.h"

#include <fstream>
#include <vector>

#include "net/http_call.h"
#include "observe/prometheus_api.h"

namespace faultline::testing {

namespace {

using namespace std::chrono_literals;

std::string host_port(const std::string& url) {
  return url.substr(url.find("//") + 2);
}

}  // namespace

PrometheusServer::PrometheusServer(const TempDir& dir,
                                   const std::map<std::string, std::string>& targets,
                                   const std::vector<std::string>& rule_files)
    : LoopbackServer(
          [&](int port) {
            return std::vector<std::string>{
                PROMETHEUS_BIN, "--config.file=" + write_config(dir, targets, rule_files),
                "--storage.tsdb.path=" + (dir / ("data-" + std::to_string(port))),
                "--web.listen-address=127.0.0.1:" + std::to_string(port)};
          },
          dir / "prometheus", "/-/ready", 20s) {}

std::string PrometheusServer::write_config(const TempDir& dir,
                                           const std::map<std::string, std::string>& targets,
                                           const std::vector<std::string>& rule_files) {
  const std::string config = dir / "prometheus.yml";
  std::ofstream f(config);
  f << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n";
  if (!rule_files.empty()) {
    f << "rule_files:\n";
    for (const auto& r : rule_files) f << "  - \"" << r << "\"\n";
  }
  f << "scrape_configs:\n";
  for (const auto& [job, target] : targets)
    f << "  - job_name: " << job << "\n    static_configs:\n      - targets: [\""
      << host_port(target) << "\"]\n";
  return config;
}

size_t PrometheusServer::count_up(const std::string& expr) const {
  HttpRequest req;
  req.method = "POST";
  req.url = url + "/api/v1/query";
  req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
  req.body = "query=" + observe::form_encode(expr + " == 1");
  const HttpResponse r = http_call(req);
  if (r.status != 200) return 0;
  return observe::parse_prometheus_answer(r.body, r.status).series.size();
}

}  // namespace faultline::testing
