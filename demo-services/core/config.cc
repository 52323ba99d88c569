#include "core/config.h"

#include <charconv>
#include <cstdlib>
#include <cxxopts.hpp>
#include <vector>

#include "common/error.h"
#include "queue/redis_connection.h"

namespace faultline::demo {

namespace {

enum RoleMask : unsigned { kApiRole = 1, kPaymentRole = 2, kWorkerRole = 4, kAllRoles = 7 };

struct OptionDef {
  const char* name;
  const char* group;
  unsigned roles;
  bool is_flag;  // boolean switch
  const char* arg;
  const char* help;
};

// The one table of options: cxxopts, environment fallbacks and role checks all come from it.
const std::vector<OptionDef>& option_defs() {
  static const std::vector<OptionDef> defs = {
      {"role", "common", kAllRoles, false, "ROLE", "which service to be: api, payment or worker"},
      {"port", "common", kAllRoles, false, "N",
       "port to listen on (default 0: a free port; the ready line says which)"},
      {"bind", "common", kAllRoles, false, "ADDR",
       "IPv4 address to listen on (default 127.0.0.1). Anything but loopback exposes the "
       "service"},
      {"threads", "common", kAllRoles, false, "N",
       "HTTP server threads (default 16); a held or slow request occupies one"},
      {"faults", "common", kAllRoles, true, "",
       "enable the fault endpoints /__faults (default off: they answer 404)"},
      {"fault-token", "common", kAllRoles, false, "T",
       "require 'Authorization: Bearer T' on /__faults (else 401)"},
      {"max-force-timeout", "common", kAllRoles, false, "DUR",
       "longest time force_timeout holds a request before answering 504 (default 10s)"},
      {"max-body", "common", kAllRoles, false, "SIZE",
       "largest request body accepted; larger gets 413 (default 64KiB)"},
      {"access-log", "common", kAllRoles, true, "",
       "log one line per request (event=request, request id, method, route, status, ms)"},
      {"check-interval", "common", kAllRoles, false, "DUR",
       "how often readiness probes its dependencies (default 250ms)"},
      {"redis", "api and worker", kApiRole | kWorkerRole, false, "HOST:PORT",
       "Redis holding the order queue (required for api and worker)"},
      {"payment-url", "api", kApiRole, false, "URL",
       "base URL of the payment service, e.g. http://127.0.0.1:8081 (required for api)"},
      {"payment-timeout", "api", kApiRole, false, "DUR",
       "timeout of each call to payment (default 2s)"},
      {"payment-retries", "api", kApiRole, false, "N",
       "retries after a failed or timed-out payment call (default 0); retry n sends "
       "X-Request-Id '<id>~<n>'"},
      {"payment-backoff", "api", kApiRole, false, "DUR",
       "wait before each payment retry (default 0ms)"},
      {"payment-required", "api", kApiRole, true, "",
       "count payment as a required dependency for /readyz (default: only Redis)"},
      {"db-latency", "api and payment", kApiRole | kPaymentRole, false, "DUR",
       "base latency of each simulated DB call (default 5ms for api, 3ms for payment)"},
      {"idempotency", "api and payment", kApiRole | kPaymentRole, true, "",
       "fix (default off). api: send 'Idempotency-Key: <order id>' with every charge attempt, "
       "retries and hedges alike. payment: honour it - a key that already captured a charge "
       "is answered with that charge again (Idempotent-Replayed: true), never charged twice"},
      {"deadline-propagation", "api and payment", kApiRole | kPaymentRole, true, "",
       "fix (default off). api: one deadline for the charge instead of a timeout per attempt "
       "(--payment-timeout x attempts + back-offs, or the X-Deadline-Ms of POST /orders if "
       "sooner); an attempt may use all the time left, sends it to payment as X-Deadline-Ms, "
       "and no retry starts after the deadline. payment: answer 504 at once to work whose "
       "deadline passed; DB and charge waits end at the deadline"},
      {"payment-hedge-after", "api", kApiRole, false, "DUR",
       "fix (default 0: off). When payment has not answered an attempt after DUR, send a hedge "
       "with X-Request-Id '<attempt id>~h1' and the same Idempotency-Key, and take the first "
       "answer. Sends Idempotency-Key even without --idempotency (payment needs --idempotency "
       "to charge the pair once)"},
      {"retry-budget", "api", kApiRole, false, "PCT",
       "fix (default 0: off). Retries and hedges to payment add at most this share of calls, "
       "e.g. 10%: a token bucket that gains the share per call and --retry-budget-min per "
       "second, holds at most 10 tokens, and spends one per retry or hedge"},
      {"retry-budget-min", "api", kApiRole, false, "RATE",
       "retries per second the retry budget allows with no calls at all (default 1/s)"},
      {"reconcile-interval", "api", kApiRole, false, "DUR",
       "fix (default 0: off). Every DUR, enqueue again each order that is paid but not queued "
       "(its enqueue failed after the charge was captured), once per order; counted in "
       "orders_reconciled_total. At least 10ms"},
      {"idempotency-ttl", "payment", kPaymentRole, false, "DUR",
       "how long payment remembers an idempotency key (default 10m; the newest 100000 keys "
       "are kept)"},
      {"workers", "worker", kWorkerRole, false, "N", "job-processing threads (default 4)"},
      {"max-retries", "worker", kWorkerRole, false, "N",
       "retries of a failed job before it is dead-lettered (default 3)"},
      {"job-time", "worker", kWorkerRole, false, "DUR",
       "base processing time of each job (default 2ms)"},
      {"worker-id", "worker", kWorkerRole, false, "ID",
       "names this worker's processing list orders:processing:<ID> (default 'worker'); run "
       "several workers against one Redis with distinct ids, and restart a worker with the "
       "same id to recover its unfinished jobs"},
  };
  return defs;
}

unsigned role_bit(Role role) {
  switch (role) {
    case Role::kApi:
      return kApiRole;
    case Role::kPayment:
      return kPaymentRole;
    case Role::kWorker:
      return kWorkerRole;
  }
  return 0;
}

std::string env_name(std::string_view flag) {
  std::string out = "DEMO_";
  for (char c : flag) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
  return out;
}

std::string help_footer() {
  return "Every flag --some-name falls back to the environment variable DEMO_SOME_NAME (flags\n"
         "win). APP_ENV=production turns on production mode: /__faults answers 404 even with\n"
         "--faults. Durations: 250ms, 2s, 1m30s. Sizes: 65536, 64KiB, 1MB.\n"
         "\n"
         "When it is ready to serve, the service prints one line on stdout:\n"
         "  faultline-demo <role> listening on http://127.0.0.1:<port>\n"
         "Logs (one line per event) go to stderr. SIGTERM or SIGINT stops it gracefully (the\n"
         "worker finishes or requeues its current job) with exit status 0.\n"
         "Endpoints, fault knobs and metrics: docs/fault-contract.md.\n";
}

// Where a value came from, for error messages.
struct Source {
  std::string value;
  std::string origin;  // "--port" or "DEMO_PORT"
};

int parse_int(const Source& s, int lo, int hi) {
  int v = 0;
  const auto* end = s.value.data() + s.value.size();
  const auto res = std::from_chars(s.value.data(), end, v);
  if (res.ec != std::errc() || res.ptr != end || v < lo || v > hi)
    throw UsageError(s.origin + ": '" + s.value + "' is not a whole number in [" +
                     std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

Duration parse_dur(const Source& s) {
  auto d = parse_duration(s.value);
  if (!d) throw UsageError(s.origin + ": '" + s.value + "' is not a duration (e.g. 250ms, 2s)");
  return *d;
}

// "10%" -> 0.1; "0" or "0%" -> 0 (off).
double parse_share(const Source& s) {
  const std::string& v = s.value;
  if (v == "0" || v == "0%") return 0;
  double pct = -1;
  if (v.size() >= 2 && v.back() == '%') {
    const auto* end = v.data() + v.size() - 1;
    const auto res = std::from_chars(v.data(), end, pct);
    if (res.ec != std::errc() || res.ptr != end) pct = -1;
  }
  if (!(pct > 0 && pct <= 100))
    throw UsageError(s.origin + ": '" + v +
                     "' is not a percentage in (0%, 100%] (e.g. 10%; 0 is off)");
  return pct / 100.0;
}

bool parse_bool(const Source& s) {
  const std::string& v = s.value;
  if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off" || v.empty()) return false;
  throw UsageError(s.origin + ": '" + v + "' is not a boolean (1/0, true/false)");
}

}  // namespace

std::optional<std::string> process_env(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

CommandLine parse_command_line(int argc, const char* const* argv, const EnvLookup& env) {
  cxxopts::Options options("faultline-demo",
                           "The reference services faultline scenarios run against: an order "
                           "api, a payment service and a queue worker, with the fault contract "
                           "(/__faults) and Prometheus metrics.");
  options.custom_help("--role api|payment|worker [options]");
  options.add_options("common")("h,help", "show this help");
  for (const auto& d : option_defs()) {
    if (d.is_flag)
      options.add_options(d.group)(d.name, d.help, cxxopts::value<bool>());
    else
      options.add_options(d.group)(d.name, d.help, cxxopts::value<std::string>(), d.arg);
  }
  CommandLine out;
  out.help_text =
      options.help({"common", "api", "api and worker", "api and payment", "payment", "worker"}) +
      "\n" + help_footer();
  cxxopts::ParseResult parsed;
  try {
    parsed = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw UsageError(std::string(e.what()) + " (see faultline-demo --help)");
  }
  if (!parsed.unmatched().empty())
    throw UsageError("unexpected argument '" + parsed.unmatched().front() +
                     "' (see faultline-demo --help)");
  if (parsed.count("help")) {
    out.show_help = true;
    return out;
  }

  auto get = [&](const char* name) -> std::optional<Source> {
    if (parsed.count(name)) {
      const auto& v = parsed[name];
      for (const auto& d : option_defs())
        if (d.is_flag && std::string_view(d.name) == name)
          return Source{v.as<bool>() ? "true" : "false", std::string("--") + name};
      return Source{v.as<std::string>(), std::string("--") + name};
    }
    const std::string var = env_name(name);
    if (auto v = env(var)) return Source{*v, var};
    return std::nullopt;
  };

  DemoConfig& c = out.config;
  auto role_src = get("role");
  if (!role_src) throw UsageError("--role is required: api, payment or worker (or set DEMO_ROLE)");
  auto role = parse_role(role_src->value);
  if (!role)
    throw UsageError(role_src->origin + ": unknown role '" + role_src->value +
                     "' (expected api, payment or worker)");
  c.role = *role;
  for (const auto& d : option_defs())
    if (parsed.count(d.name) && !(d.roles & role_bit(c.role)))
      throw UsageError(std::string("--") + d.name + " does not apply to --role " +
                       std::string(role_name(c.role)) + " (it is an option of the " + d.group +
                       " role)");
  // Options of other roles are ignored when they come from the environment (a shared env file).
  auto get_for_role = [&](const char* name) -> std::optional<Source> {
    for (const auto& d : option_defs())
      if (std::string_view(d.name) == name && !(d.roles & role_bit(c.role))) return std::nullopt;
    return get(name);
  };

  if (auto s = get_for_role("port")) c.port = parse_int(*s, 0, 65535);
  if (auto s = get_for_role("bind")) {
    if (s->value.empty()) throw UsageError(s->origin + " must not be empty");
    c.bind = s->value;
  }
  if (auto s = get_for_role("threads")) c.threads = parse_int(*s, 1, 1024);
  if (auto s = get_for_role("faults")) c.faults = parse_bool(*s);
  if (auto s = get_for_role("access-log")) c.access_log = parse_bool(*s);
  if (auto s = get_for_role("fault-token")) c.fault_token = s->value;
  if (auto s = get_for_role("max-force-timeout")) c.max_force_timeout = parse_dur(*s);
  if (auto s = get_for_role("max-body")) {
    auto bytes = parse_bytes(s->value);
    if (!bytes || *bytes < 1 || *bytes > (64ull << 20))
      throw UsageError(s->origin + ": '" + s->value + "' is not a size in [1, 64MiB]");
    c.max_body_bytes = *bytes;
  }
  if (auto s = get_for_role("check-interval")) {
    c.check_interval = parse_dur(*s);
    if (c.check_interval < std::chrono::milliseconds(10))
      throw UsageError(s->origin + ": the check interval must be at least 10ms");
  }
  if (auto app_env = env("APP_ENV")) c.production = *app_env == "production";

  if (c.role == Role::kApi || c.role == Role::kWorker) {
    auto s = get_for_role("redis");
    if (!s)
      throw UsageError("--redis HOST:PORT is required for --role " +
                       std::string(role_name(c.role)));
    auto address = parse_redis_address(s->value);
    if (!address)
      throw UsageError(s->origin + ": '" + s->value + "' is not HOST:PORT (e.g. 127.0.0.1:6379)");
    c.redis_host = address->host;
    c.redis_port = address->port;
  }
  if (c.role == Role::kApi) {
    auto s = get_for_role("payment-url");
    if (!s) throw UsageError("--payment-url is required for --role api");
    if (s->value.rfind("http://", 0) != 0 || s->value.size() <= 7)
      throw UsageError(s->origin + ": '" + s->value +
                       "' is not an http:// URL (e.g. http://127.0.0.1:8081)");
    c.payment_url = s->value;
    while (c.payment_url.size() > 7 && c.payment_url.back() == '/') c.payment_url.pop_back();
    if (auto t = get_for_role("payment-timeout")) c.payment_timeout = parse_dur(*t);
    if (c.payment_timeout < std::chrono::milliseconds(1))
      throw UsageError("--payment-timeout must be at least 1ms");
    if (auto t = get_for_role("payment-retries")) c.payment_retries = parse_int(*t, 0, 10);
    if (auto t = get_for_role("payment-backoff")) c.payment_backoff = parse_dur(*t);
    if (auto t = get_for_role("payment-required")) c.payment_required = parse_bool(*t);
    if (auto t = get_for_role("payment-hedge-after")) c.payment_hedge_after = parse_dur(*t);
    if (auto t = get_for_role("retry-budget")) c.retry_budget = parse_share(*t);
    if (auto t = get_for_role("retry-budget-min")) {
      auto rate = parse_rate(t->value);
      if (!rate || *rate < 0 || *rate > 1e6)
        throw UsageError(t->origin + ": '" + t->value + "' is not a rate (e.g. 1/s, 30/m)");
      c.retry_budget_min_per_second = *rate;
    }
    if (auto t = get_for_role("reconcile-interval")) {
      c.reconcile_interval = parse_dur(*t);
      if (c.reconcile_interval != Duration{0} &&
          c.reconcile_interval < std::chrono::milliseconds(10))
        throw UsageError(t->origin + ": the reconcile interval is 0 (off) or at least 10ms");
    }
  }
  if (c.role == Role::kApi || c.role == Role::kPayment) {
    if (auto t = get_for_role("idempotency")) c.idempotency = parse_bool(*t);
    if (auto t = get_for_role("deadline-propagation")) c.deadline_propagation = parse_bool(*t);
  }
  if (c.role == Role::kPayment) {
    if (auto t = get_for_role("idempotency-ttl")) c.idempotency_ttl = parse_dur(*t);
    if (c.idempotency_ttl < std::chrono::milliseconds(1))
      throw UsageError("--idempotency-ttl must be at least 1ms");
  }
  if (c.role == Role::kPayment) c.db_latency = std::chrono::milliseconds(3);
  if (auto s = get_for_role("db-latency")) c.db_latency = parse_dur(*s);
  if (c.role == Role::kWorker) {
    if (auto s = get_for_role("workers")) c.workers = parse_int(*s, 1, 256);
    if (auto s = get_for_role("max-retries")) c.max_retries = parse_int(*s, 0, 100);
    if (auto s = get_for_role("job-time")) c.job_time = parse_dur(*s);
    if (auto s = get_for_role("worker-id")) {
      if (s->value.empty() || s->value.find_first_of(" \t\r\n") != std::string::npos)
        throw UsageError(s->origin + ": a worker id is a non-empty word");
      c.worker_id = s->value;
    }
  }
  return out;
}

}  // namespace faultline::demo
