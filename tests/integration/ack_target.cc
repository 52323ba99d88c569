// ack_target: an order store that acknowledges every order and, on purpose, applies some of
// them wrongly, for the end-to-end test of the id history (hooks_e2e_test.cc).
//
//   ack_target --port N [--lose K] [--dup K]
//
//   POST /orders   201 {"order_id":"o-<n>","status":"accepted"} (n counts from 1); every Kth
//                  order with --lose is never applied, every Kth with --dup is applied twice
//   GET  /applied  200 {"applied":["o-1",...],"count":<entries>}, in the order applied
//   POST /reset    200: forgets every order (a setup hook clears the store)
//   GET  /ready    200;  GET /metrics  a tiny exposition
#include <civetweb.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

std::mutex g_mutex;
std::vector<std::string> g_applied;
long g_orders = 0;
int g_lose = 0, g_dup = 0;
std::atomic<bool> g_stop{false};

void reply(mg_connection* c, int status, const std::string& body) {
  mg_printf(c,
            "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
            "Connection: keep-alive\r\n\r\n",
            status, body.size());
  mg_write(c, body.data(), body.size());
}

int handle(mg_connection* c, void*) {
  const mg_request_info* ri = mg_get_request_info(c);
  const std::string method = ri->request_method;
  const std::string path = ri->local_uri;
  char drain[4096];
  while (mg_read(c, drain, sizeof drain) > 0) {
  }
  if (path == "/orders" && method == "POST") {
    std::string id;
    {
      std::lock_guard lock(g_mutex);
      const long n = ++g_orders;
      id = "o-" + std::to_string(n);
      if (!(g_lose > 0 && n % g_lose == 0)) g_applied.push_back(id);
      if (g_dup > 0 && n % g_dup == 0) g_applied.push_back(id);
    }
    reply(c, 201, R"({"order_id":")" + id + R"(","status":"accepted"})");
  } else if (path == "/applied") {
    std::string body = R"({"applied":[)";
    std::lock_guard lock(g_mutex);
    for (size_t i = 0; i < g_applied.size(); ++i) body += (i ? ",\"" : "\"") + g_applied[i] + "\"";
    body += "],\"count\":" + std::to_string(g_applied.size()) + "}";
    reply(c, 200, body);
  } else if (path == "/reset" && method == "POST") {
    std::lock_guard lock(g_mutex);
    g_applied.clear();
    reply(c, 200, R"({"ok":true})");
  } else if (path == "/metrics") {
    reply(c, 200, "# TYPE up gauge\nup 1\n");
  } else {
    reply(c, 200, R"({"ok":true})");
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--port") port = std::atoi(argv[i + 1]);
    if (flag == "--lose") g_lose = std::atoi(argv[i + 1]);
    if (flag == "--dup") g_dup = std::atoi(argv[i + 1]);
  }
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  mg_init_library(0);
  const std::string listen = "127.0.0.1:" + std::to_string(port);
  const char* options[] = {"listening_ports",   listen.c_str(), "num_threads", "16",
                           "enable_keep_alive", "yes",          nullptr};
  mg_callbacks callbacks{};
  mg_context* ctx = mg_start(&callbacks, nullptr, options);
  if (!ctx) {
    std::fprintf(stderr, "ack_target: cannot listen on %s: Address already in use\n",
                 listen.c_str());
    return 1;
  }
  mg_set_request_handler(ctx, "/", &handle, nullptr);
  std::printf("ack_target listening on %d\n", port);
  std::fflush(stdout);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::_Exit(0);  // no graceful civetweb stop: its listener may take 2 s to notice
}
