// NginxBalancer: the nginx configuration faultline generates to put Debian's nginx in front of
// the instances of one service (environment `balancer: nginx`), and how to run it. Everything
// nginx writes (pid file, error and access logs, temp files) stays in one directory of the
// run's bundle; nginx runs in the foreground as a ChildProcess of the launcher, so it is
// stopped by process group like every service and dies with faultline.
//
// The generated file explains each directive in a comment; in short: one process, listen on
// 127.0.0.1:<port>, round robin over every instance, a connection error or timeout retried on
// the next instance (so a killed instance is skipped), a failed instance skipped for 1 s.
#pragma once

#include <string>
#include <vector>

#include "proc/child_process.h"

namespace faultline {

struct NginxBalancerConfig {
  std::string service;              // the service it balances, for comments
  std::string dir;                  // absolute; holds the config and everything nginx writes
  int listen_port = 0;              // on 127.0.0.1
  std::vector<int> instance_ports;  // on 127.0.0.1, in instance order
};

// The nginx binary: "nginx" found in PATH, else /usr/sbin/nginx (Debian's, not in a user's
// PATH). Empty when there is none.
std::string find_nginx_binary();

// The text of nginx.conf for `config`.
std::string nginx_config_text(const NginxBalancerConfig& config);

// Writes <dir>/nginx.conf (creating dir and its temp directories) and returns how to run
// nginx on it: stdout and stderr into <dir>/error.log, which is also nginx's error log.
// Throws EnvironmentError when the directory or file cannot be written.
ChildSpec prepare_nginx_balancer(const std::string& nginx_binary,
                                 const NginxBalancerConfig& config);

}  // namespace faultline
