// Benchmark driver for the TCP fault proxy: runs one TcpProxy in front of a loopback port,
// optionally with a latency toxic, prints `port=<n>` once it listens, and runs until SIGTERM
// or SIGINT; then prints its counters and its own CPU time (getrusage: every thread, in
// microseconds) as key=value. Not a test: it prints figures.
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <iostream>
#include <string>

#include <cxxopts.hpp>

#include "faults/tcp_proxy.h"
#include "proc/child_process.h"

int main(int argc, char** argv) {
  cxxopts::Options opts("proxy_driver", "faultline's TCP fault proxy, for bench/proxy-vs-direct");
  opts.add_options()("upstream-port", "port of the service on 127.0.0.1", cxxopts::value<int>())(
      "latency-ms", "add a latency toxic of this many ms (0: no toxic)",
      cxxopts::value<int64_t>()->default_value("0"))("jitter-ms", "jitter of the latency toxic",
                                                     cxxopts::value<int64_t>()->default_value("0"))(
      "direction", "direction of the toxic: upstream or downstream",
      cxxopts::value<std::string>()->default_value("downstream"))(
      "seed", "the proxy's seed", cxxopts::value<uint64_t>()->default_value("1"))(
      "free-port", "print a free 127.0.0.1 port and exit")("h,help", "this help");
  try {
    const auto args = opts.parse(argc, argv);
    if (args.count("help")) {
      std::cout << opts.help() << "\n";
      return 0;
    }
    if (args.count("free-port")) {
      std::cout << faultline::pick_free_port() << "\n";
      return 0;
    }
    if (!args.count("upstream-port")) {
      std::cerr << "proxy_driver: --upstream-port is required\n";
      return 2;
    }
    // Blocked before the proxy's thread starts, so only sigwait() below receives them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    faultline::TcpProxyOptions o;
    o.name = "bench";
    o.upstream_port = args["upstream-port"].as<int>();
    o.seed = args["seed"].as<uint64_t>();
    faultline::TcpProxy proxy(o);
    if (const int64_t latency = args["latency-ms"].as<int64_t>(); latency > 0) {
      faultline::Toxic t;
      t.name = "latency";
      t.type = faultline::ToxicType::kLatency;
      t.latency_ms = latency;
      t.jitter_ms = args["jitter-ms"].as<int64_t>();
      const auto direction = faultline::parse_toxic_direction(args["direction"].as<std::string>());
      if (!direction) {
        std::cerr << "proxy_driver: --direction is upstream or downstream\n";
        return 2;
      }
      t.direction = *direction;
      proxy.add_toxic(t);
      if (!proxy.wait_applied(std::chrono::seconds(2))) {
        std::cerr << "proxy_driver: the toxic was not applied\n";
        return 1;
      }
    }
    std::cout << "port=" << proxy.port() << std::endl;

    int signal_number = 0;
    sigwait(&stop_signals, &signal_number);
    proxy.stop();
    const faultline::TcpProxyCounters c = proxy.counters();
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    std::printf("connections=%llu bytes_upstream=%llu bytes_downstream=%llu cpu_s=%.6f\n",
                static_cast<unsigned long long>(c.connections_accepted),
                static_cast<unsigned long long>(c.bytes_upstream),
                static_cast<unsigned long long>(c.bytes_downstream),
                seconds(usage.ru_utime) + seconds(usage.ru_stime));
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "proxy_driver: " << e.what() << "\n";
    return 1;
  }
}
