#include "demo_cluster.h"

#include <signal.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "common/error.h"

#ifndef FAULTLINE_DEMO_BINARY
#error "FAULTLINE_DEMO_BINARY must name the faultline-demo binary"
#endif

namespace faultline::testing {

namespace {

constexpr std::string_view kReadyMarker = " listening on ";

std::string tail_of(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return "";
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return "";
  const size_t skip = size > max_bytes ? size - max_bytes : 0;
  std::fseek(f, static_cast<long>(skip), SEEK_SET);
  std::string out(size - skip, '\0');
  const size_t n = std::fread(out.data(), 1, out.size(), f);
  std::fclose(f);
  out.resize(n);
  return out;
}

}  // namespace

std::string demo_binary_path() {
  return FAULTLINE_DEMO_BINARY;
}

DemoService start_demo_service(const std::string& role, const std::vector<std::string>& args,
                               const std::vector<std::pair<std::string, std::string>>& env,
                               const std::string& log_path, std::chrono::milliseconds timeout) {
  ChildSpec spec;
  spec.argv = {demo_binary_path(), "--role", role, "--port", "0"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = env;
  spec.stdout_path = log_path + ".out";
  spec.stderr_path = log_path;
  ChildProcess child = ChildProcess::spawn(spec);
  const std::string prefix = "faultline-demo " + role + std::string(kReadyMarker);
  auto line =
      child.wait_for_line([&](const std::string& l) { return l.rfind(prefix, 0) == 0; }, timeout);
  if (!line) {
    const std::string tail = child.log_tail(1500);
    child.stop(std::chrono::milliseconds(1000));
    throw EnvironmentError("faultline-demo --role " + role + " did not become ready:\n" + tail);
  }
  DemoService s;
  s.role = role;
  s.url = line->substr(prefix.size());
  s.process.emplace(std::move(child));
  return s;
}

DemoCluster::DemoCluster(DemoClusterOptions options) : options_(std::move(options)) {
  if (options_.log_dir.empty()) {
    temp_log_dir_.emplace("cluster");
    log_dir_ = temp_log_dir_->path();
  } else {
    log_dir_ = options_.log_dir;
    std::filesystem::create_directories(log_dir_);
  }
  redis_.emplace(RedisServer::start(log_dir_));
  redis_port_ = redis_->port();

  std::vector<std::string> payment_args = common_args();
  payment_args.insert(payment_args.end(), {"--db-latency", options_.payment_db_latency});
  payment_args.insert(payment_args.end(), options_.extra_payment_args.begin(),
                      options_.extra_payment_args.end());
  payment_ = start_demo_service("payment", payment_args, env(), log_dir_ + "/payment.log");

  std::vector<std::string> api_args = common_args();
  api_args.insert(
      api_args.end(),
      {"--redis", redis_->address(), "--payment-url", payment_.url, "--payment-timeout",
       options_.payment_timeout, "--payment-retries", std::to_string(options_.payment_retries),
       "--db-latency", options_.api_db_latency, "--threads", std::to_string(options_.api_threads)});
  if (options_.payment_required) api_args.push_back("--payment-required");
  api_args.insert(api_args.end(), options_.extra_api_args.begin(), options_.extra_api_args.end());
  api_ = start_demo_service("api", api_args, env(), log_dir_ + "/api.log");

  if (options_.start_worker) start_worker();
}

DemoCluster::~DemoCluster() {
  // Reverse order of dependencies; each ChildProcess stops by PID (SIGTERM, then SIGKILL).
  if (worker_.process) worker_.process->stop();
  if (api_.process) api_.process->stop();
  if (payment_.process) payment_.process->stop();
  if (redis_) redis_->stop();
  // temp_log_dir_ goes last, with the logs unless the test failed.
}

std::vector<std::string> DemoCluster::common_args() const {
  std::vector<std::string> args = {"--check-interval", options_.check_interval};
  if (options_.faults) args.push_back("--faults");
  if (!options_.fault_token.empty()) {
    args.push_back("--fault-token");
    args.push_back(options_.fault_token);
  }
  return args;
}

std::vector<std::pair<std::string, std::string>> DemoCluster::env() const {
  // Set explicitly, so a DEMO_* or APP_ENV in the test runner's environment cannot leak in.
  return {{"APP_ENV", options_.production ? "production" : "test"},
          {"DEMO_FAULT_TOKEN", options_.fault_token},
          {"DEMO_FAULTS", options_.faults ? "1" : "0"}};
}

void DemoCluster::kill_worker(int sig) {
  if (!worker_.process) return;
  worker_.process->send_signal(sig);
  worker_.process->wait_for_exit(std::chrono::seconds(10));
}

void DemoCluster::start_worker() {
  if (worker_.process) worker_.process->stop();
  std::vector<std::string> args = common_args();
  args.insert(args.end(),
              {"--redis", redis_->address(), "--workers", std::to_string(options_.workers),
               "--max-retries", std::to_string(options_.max_retries), "--job-time",
               options_.job_time, "--worker-id", options_.worker_id});
  args.insert(args.end(), options_.extra_worker_args.begin(), options_.extra_worker_args.end());
  ++worker_starts_;
  worker_ = start_demo_service("worker", args, env(),
                               log_dir_ + "/worker-" + std::to_string(worker_starts_) + ".log");
}

void DemoCluster::stop_redis() {
  redis_->stop();
}

void DemoCluster::start_redis() {
  redis_->stop();
  redis_.emplace(RedisServer::start(log_dir_, redis_port_));
}

std::string DemoCluster::logs() const {
  std::string out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(log_dir_, ec)) {
    if (entry.path().extension() != ".log") continue;
    out += "==> " + entry.path().string() + " <==\n" + tail_of(entry.path().string(), 1500);
  }
  return out;
}

HttpResponse http_get(const std::string& url, std::vector<std::string> headers) {
  HttpRequest r;
  r.url = url;
  r.headers = std::move(headers);
  return http_call(r);
}

HttpResponse http_post(const std::string& url, const std::string& body,
                       std::vector<std::string> headers) {
  HttpRequest r;
  r.method = "POST";
  r.url = url;
  r.body = body;
  r.headers = std::move(headers);
  r.headers.push_back("Content-Type: application/json");
  return http_call(r);
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

LoopbackServer::LoopbackServer(const std::function<std::vector<std::string>(int port)>& argv,
                               const std::string& log_prefix, const std::string& ready_path,
                               std::chrono::milliseconds timeout) {
  std::string tail;
  for (int attempt = 0; attempt < 3 && url.empty(); ++attempt) {
    const int port = pick_free_port();
    ChildSpec spec;
    spec.argv = argv(port);
    spec.stdout_path = log_prefix + "-" + std::to_string(port) + ".log";
    process.emplace(ChildProcess::spawn(spec));
    const std::string base = "http://127.0.0.1:" + std::to_string(port);
    if (wait_until([&] { return process->running() && http_get(base + ready_path).status == 200; },
                   timeout, std::chrono::milliseconds(50))) {
      url = base;
    } else {
      tail = process->log_tail();
      process->stop();
    }
  }
  if (url.empty()) throw EnvironmentError(argv(0).front() + " did not become ready: " + tail);
}

LoopbackServer::~LoopbackServer() {
  if (process) process->stop();
}

}  // namespace faultline::testing
