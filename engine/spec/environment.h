// Environment: where a scenario runs. Logical service names map either to a URL that is used
// as it is, or to a command that faultline starts on a free loopback port and stops at the end.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/units.h"
#include "spec/scenario.h"

namespace faultline {

struct ServiceSpec {
  std::string name;
  // Exactly one of url / command / proxy_of is set.
  std::string url;                         // "http://127.0.0.1:8080"
  std::string proxy_of;                    // a TCP fault proxy (faults/tcp_proxy.h) that
                                           // faultline runs in front of this service; from
                                           // the environment's `proxies:`, protocol "tcp"
  std::vector<std::string> command;        // argv with placeholders: {port}, {<service>.port},
                                           // {<service>.url}, {<service>.host}
  std::map<std::string, std::string> env;  // extra environment, same placeholders
  std::string protocol = "http";  // "http" (readiness by GET ready_path) or "tcp" (connect)
  std::string ready_path = "/readyz";
  Duration ready_timeout{std::chrono::seconds(15)};
  std::vector<std::string> depends_on;  // started first; also implied by placeholders
  bool faults = false;                  // implements the fault contract (/__faults)
  std::string fault_token;              // bearer token for /__faults, if the service wants one
  // Copies of the command faultline runs, each on its own port ({port}), named
  // "<name>#0".."<name>#<instances-1>". 1..kMaxInstances; only for services with a command.
  int instances = 1;
  // "" or "nginx": a load balancer faultline runs in front of the instances; {name.url} and
  // the like, and traffic to the service, go to it. Without one a service with more than one
  // instance has no address of its own: refer to one instance as {name#K.port}.
  std::string balancer;
  SourceLoc loc;

  // Whether the service runs as named instances ("api#0", ...) rather than as one process
  // named after the service: more than one instance, or a balancer in front.
  bool instanced() const { return instances > 1 || !balancer.empty(); }
  // Whether {name.port}, traffic and knobs have one address to go to.
  bool has_single_address() const { return instances == 1 || !balancer.empty(); }
};

inline constexpr int kMaxInstances = 16;

// Where the server-side metrics of a run come from. By default faultline scrapes each observed
// service's /metrics itself, on the plan's ticks. With source "prometheus" it reads the same
// series from a Prometheus server that already scrapes the services (a team's own, or the one
// compose/ runs), through its HTTP API once the traffic has ended (run/prometheus_pull.h):
// judging, the bundle and `faultline judge` then work exactly as with direct scrapes.
struct ObserveSource {
  std::string source = "scrape";  // "scrape" or "prometheus"
  std::string url;                // prometheus: its base URL, e.g. "http://127.0.0.1:9090"
  // prometheus, instead of url: a service of this environment that is the Prometheus server
  // (one faultline starts, e.g. with scripts/prometheus-for-env); its URL is known once it
  // runs, and the checks of preflight() wait for its first scrapes.
  std::string service;
  // Label matchers (PromQL syntax, without braces) that select one service's series in
  // Prometheus; {service} stands for the logical service name.
  std::string match = "job=\"{service}\"";
  // How long to wait after the traffic for Prometheus to have scraped every service past the
  // run's last tick.
  Duration wait{std::chrono::seconds(30)};
  SourceLoc loc;

  bool prometheus() const { return source == "prometheus"; }
  // The matchers for `service_name`: `match` with {service} replaced.
  std::string matchers_for(const std::string& service_name) const;
};

struct Environment {
  std::string name;
  std::vector<ServiceSpec> services;  // in file order; then the proxies, in file order
  // Hosts/CIDRs traffic may go to. Default: loopback only (127.0.0.0/8, ::1, localhost).
  std::vector<std::string> allow = {"127.0.0.0/8", "::1", "localhost"};
  ObserveSource observe;
  std::string source_path;

  const ServiceSpec* find(const std::string& name) const;
};

}  // namespace faultline
