// Helpers the demo-services integration tests share: JSON fields, scraped metric values,
// promtool, the fault endpoints, the order queue and log files.
#pragma once

#include <rapidjson/document.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "demo_cluster.h"
#include "temp_dir.h"

namespace faultline::testing {

inline rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  return d;
}

// "name{b=\"2\",a=\"1\"}" -> "name{a=\"1\",b=\"2\"}": label pairs sorted by name, so a series
// is found whatever label order the exposition uses (prometheus-cpp sorts labels by name).
// Reads the series from the start of `text`; *end is set past it (the value follows).
inline std::string canonical_series(const std::string& text, size_t* end = nullptr) {
  size_t i = 0;
  while (i < text.size() && text[i] != '{' && text[i] != ' ') ++i;
  std::string name = text.substr(0, i);
  std::vector<std::pair<std::string, std::string>> labels;  // value kept escaped
  if (i < text.size() && text[i] == '{') {
    ++i;
    while (i < text.size() && text[i] != '}') {
      const size_t eq = text.find('=', i);
      if (eq == std::string::npos || eq + 1 >= text.size()) break;
      std::string key = text.substr(i, eq - i);
      size_t j = eq + 2;  // past ="
      std::string value;
      while (j < text.size() && text[j] != '"') {
        if (text[j] == '\\' && j + 1 < text.size()) value.push_back(text[j++]);
        value.push_back(text[j++]);
      }
      labels.emplace_back(std::move(key), std::move(value));
      i = j + 1;
      if (i < text.size() && text[i] == ',') ++i;
    }
    ++i;  // past }
    std::sort(labels.begin(), labels.end());
    name += '{';
    for (size_t k = 0; k < labels.size(); ++k)
      name += (k ? "," : "") + labels[k].first + "=\"" + labels[k].second + "\"";
    name += '}';
  }
  if (end) *end = i;
  return name;
}

// The value of one exact series ("jobs_processed_total" or
// "http_requests_total{route=\"/orders\",method=\"POST\",status=\"201\"}", labels in any order)
// in an exposition.
inline std::optional<double> metric_value(const std::string& exposition,
                                          const std::string& series) {
  const std::string wanted = canonical_series(series);
  const std::string name = series.substr(0, series.find('{'));
  size_t pos = 0;
  while (pos < exposition.size()) {
    size_t end = exposition.find('\n', pos);
    if (end == std::string::npos) end = exposition.size();
    const std::string line = exposition.substr(pos, end - pos);
    pos = end + 1;
    if (line.compare(0, name.size(), name) != 0) continue;
    size_t value_at = 0;
    if (canonical_series(line, &value_at) == wanted && value_at < line.size() &&
        line[value_at] == ' ')
      return std::stod(line.substr(value_at + 1));
  }
  return std::nullopt;
}

// The value of `series` at `base_url`/metrics. An absent series reads as NaN, which fails
// every comparison (`== 0` and `<= 0` included): a metric the service stopped exporting must
// not pass for a zero.
inline double scrape(const std::string& base_url, const std::string& series) {
  return metric_value(http_get(base_url + "/metrics").body, series)
      .value_or(std::numeric_limits<double>::quiet_NaN());
}

// Runs `promtool check metrics` on `exposition`; returns its combined output, sets *rc.
inline std::string promtool_check_metrics(const std::string& exposition, int* rc) {
  const TempDir dir("metrics");
  const std::string path = dir / "exposition.txt";
  std::ofstream(path) << exposition;
  const std::string cmd = "promtool check metrics < " + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

inline HttpResponse set_faults(const std::string& base_url, const std::string& json,
                               std::vector<std::string> headers = {}) {
  return http_post(base_url + "/__faults", json, std::move(headers));
}

inline std::string order_body(int i) {
  return "{\"user_id\": " + std::to_string(i % 1000 + 1) + ", \"amount\": 12.5}";
}

// One POST /orders as the client saw it.
struct OrderAnswer {
  std::string id;  // the X-Request-Id sent
  long status = 0;
  std::chrono::microseconds latency{0};  // measured by the client
  std::string body;
};

// Sends POST /orders with X-Request-Id <prefix><i> for i in [0, n) from `threads` threads
// (closed loop). Returns the answers indexed by i.
inline std::vector<OrderAnswer> send_orders(const std::string& api_url, const std::string& prefix,
                                            int n, int threads) {
  std::vector<OrderAnswer> answers(static_cast<size_t>(n));
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        OrderAnswer& a = answers[static_cast<size_t>(i)];
        a.id = prefix + std::to_string(i);
        const auto start = std::chrono::steady_clock::now();
        auto r = http_post(api_url + "/orders", order_body(i), {"X-Request-Id: " + a.id});
        a.latency = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - start);
        a.status = r.status;
        a.body = std::move(r.body);
      }
    });
  for (auto& t : pool) t.join();
  return answers;
}

// Nothing waits in the order queue or in `worker_id`'s processing list.
inline bool drained(DemoCluster& cluster, const std::string& worker_id = "worker") {
  return cluster.redis().integer({"LLEN", "orders:queue"}) == 0 &&
         cluster.redis().integer({"LLEN", "orders:processing:" + worker_id}) == 0;
}

// A file's whole text ("" when it cannot be read), e.g. a service's log.
inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace faultline::testing
