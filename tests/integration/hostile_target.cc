// hostile_target: a service that implements the fault contract badly on purpose, for the
// tests that prove faultline stays safe against it. One process, civetweb on 127.0.0.1.
//
//   hostile_target --port N [--metrics-mb M] [--reset-hang-ms H] [--exit-after-ms E]
//
//   GET  /            200 "ok" (traffic)
//   GET  /ready       200
//   GET  /metrics     a valid exposition padded with comment lines to M MiB (default 0: small)
//   GET  /__faults    {"catalog":[{"name":"x"}], ...}
//   POST /__faults    200 (knobs accepted)
//   POST /__faults/reset  200; with --reset-hang-ms, every reset after the first hangs H ms
//   --exit-after-ms   the process exits with code 7 after E ms (a service that dies mid-run)
#include <civetweb.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace {

std::string g_metrics;
int g_reset_hang_ms = 0;
std::atomic<int> g_resets{0};
std::atomic<bool> g_stop{false};

void reply(mg_connection* c, int status, const std::string& type, const std::string& body) {
  mg_printf(
      c, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
      status, status == 200 ? "OK" : "Not Found", type.c_str(), body.size());
  mg_write(c, body.data(), body.size());
}

int handle(mg_connection* c, void*) {
  const mg_request_info* ri = mg_get_request_info(c);
  const std::string method = ri->request_method;
  const std::string path = ri->local_uri;
  if (path == "/metrics") {
    reply(c, 200, "text/plain; version=0.0.4", g_metrics);
  } else if (path == "/__faults" && method == "GET") {
    reply(c, 200, "application/json",
          R"({"baseline":true,"knobs":{},"catalog":[{"name":"x","type":"int"}]})");
  } else if (path == "/__faults/reset") {
    if (g_resets++ > 0 && g_reset_hang_ms > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(g_reset_hang_ms));
    reply(c, 200, "application/json", R"({"baseline":true})");
  } else if (path == "/__faults") {
    reply(c, 200, "application/json", R"({"ok":true})");
  } else {
    reply(c, 200, "text/plain", "ok");
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, exit_after_ms = 0;
  double metrics_mb = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--port")
      port = std::atoi(argv[i + 1]);
    else if (flag == "--metrics-mb")
      metrics_mb = std::atof(argv[i + 1]);
    else if (flag == "--reset-hang-ms")
      g_reset_hang_ms = std::atoi(argv[i + 1]);
    else if (flag == "--exit-after-ms")
      exit_after_ms = std::atoi(argv[i + 1]);
  }
  g_metrics = "# TYPE http_requests_total counter\nhttp_requests_total{route=\"/\"} 1\n";
  const size_t want = static_cast<size_t>(metrics_mb * 1024 * 1024);
  const std::string pad = "# padding padding padding padding padding padding padding padding\n";
  while (g_metrics.size() < want) g_metrics += pad;

  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  mg_init_library(0);
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  const char* options[] = {"listening_ports", listen.c_str(), "num_threads", "16", nullptr};
  mg_callbacks callbacks{};
  mg_context* ctx = mg_start(&callbacks, nullptr, options);
  if (!ctx) {
    std::fprintf(stderr, "hostile_target: cannot listen on %s: Address already in use\n",
                 listen.c_str());
    return 1;
  }
  mg_set_request_handler(ctx, "/", &handle, nullptr);
  std::printf("hostile_target listening on %d\n", port);
  std::fflush(stdout);
  const auto start = std::chrono::steady_clock::now();
  while (!g_stop) {
    if (exit_after_ms > 0 &&
        std::chrono::steady_clock::now() - start > std::chrono::milliseconds(exit_after_ms))
      std::_Exit(7);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::_Exit(0);  // no graceful civetweb stop: its listener may take 2 s to notice
}
