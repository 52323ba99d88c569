// The worker role: --workers threads consume orders:queue reliably (queue/order_queue.h explains
// the keys and the guarantees). Per job: --job-time plus worker_delay_ms, then worker_fail_rate
// decides (targeting by order id) whether processing fails. A failed job is retried (attempt+1,
// back of the queue) up to --max-retries times, then dead-lettered. A successful job runs its
// effect once per order id however often it is delivered (unless the worker_skip_dedup knob lets
// duplicates through). The effect is INCR orders:effects and RPUSH orders:applied <order id>;
// GET /orders/applied answers that list: {"applied": [order ids, in application order], "count"}.
//
// On start the worker moves whatever its processing list holds (jobs a killed predecessor with
// the same --worker-id had taken) back to the queue before consuming. On SIGTERM a job in its
// delay is handed back to the front of the queue; a job past its delay is finished.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "common/targeting.h"
#include "core/event_log.h"
#include "core/service.h"
#include "http/trace_context.h"
#include "queue/order_queue.h"
#include "queue/redis_connection.h"

namespace faultline::demo {

namespace {

constexpr auto kProbeTimeout = std::chrono::milliseconds(200);
constexpr auto kTakeBlock = std::chrono::milliseconds(250);
constexpr auto kRedisRetryPause = std::chrono::milliseconds(200);

// Jobs carry the order request's traceparent; its trace id goes last on the job's log lines.
void add_trace_id(std::vector<LogField>& fields, const Job& job) {
  const std::string_view trace_id = trace_id_of(job.traceparent);
  if (!trace_id.empty()) fields.push_back({"trace_id", std::string(trace_id)});
}

class WorkerLogic : public RoleLogic {
 public:
  explicit WorkerLogic(Service& s)
      : s_(s),
        address_{s.config().redis_host, s.config().redis_port},
        worker_id_(s.config().worker_id),
        probe_conn_(address_, kProbeTimeout, kProbeTimeout),
        depth_conn_(address_, kProbeTimeout, kProbeTimeout),
        registry_(s.metrics().registry),
        processed_(registry_
                       .counter("jobs_processed_total",
                                "Jobs processed successfully (including duplicates whose effect "
                                "had already happened).")
                       .with({})),
        duplicates_(registry_
                        .counter("jobs_duplicate_total",
                                 "Processed jobs whose order had been done before: no second "
                                 "effect (duplicates suppressed).")
                        .with({})),
        effects_applied_(registry_
                             .counter("jobs_effects_applied_total",
                                      "Effects applied (each is one entry of orders:applied), "
                                      "duplicates let through by worker_skip_dedup included.")
                             .with({})),
        duplicates_applied_(registry_
                                .counter("jobs_duplicate_applied_total",
                                         "Processed jobs whose order had been done before and "
                                         "whose effect was applied again (worker_skip_dedup).")
                                .with({})),
        failed_(registry_.counter("jobs_failed_total", "Job attempts that failed.").with({})),
        retried_(
            registry_.counter("jobs_retried_total", "Failed jobs put back for another attempt.")
                .with({})),
        dead_lettered_(registry_
                           .counter("jobs_dead_lettered_total",
                                    "Jobs moved to the dead-letter list orders:dlq.")
                           .with({})),
        recovered_(registry_
                       .counter("jobs_recovered_total",
                                "Jobs moved back from this worker's processing list at start.")
                       .with({})),
        job_duration_(registry_
                          .histogram("job_duration_seconds",
                                     "Time to process one job attempt (delay included).", {},
                                     latency_buckets_seconds())
                          .with({})),
        queue_wait_(registry_
                        .histogram("job_queue_wait_seconds",
                                   "Time from a job's first enqueue to the start of this "
                                   "attempt.",
                                   {}, latency_buckets_seconds())
                        .with({})),
        queue_depth_(
            registry_.gauge("queue_depth", "Jobs waiting in orders:queue (at scrape).").with({})),
        processing_depth_(registry_
                              .gauge("queue_processing_depth",
                                     "Jobs in this worker's processing list (at scrape).")
                              .with({})),
        dlq_depth_(
            registry_.gauge("dead_letter_queue_depth", "Jobs in orders:dlq (at scrape).").with({})),
        busy_(s.metrics().pool_busy_threads.with({"jobs"})) {
    s.metrics().pool_threads.with({"jobs"}).Set(s.config().workers);
    registry_.add_collect_hook([this] {
      s_.metrics().pool_saturation.with({"jobs"}).Set(busy_.Value() / s_.config().workers);
      sample_depths();
    });
    s.readiness().add_dependency("redis", true, [this] { return redis_ping(probe_conn_); });
    // Guarded like /__faults (it exists only with --faults, and takes the fault token): a
    // control route, so it answers while the jobs pool is saturated.
    install_guarded_route(s.http(), s.fault_guard(), "GET", "/orders/applied",
                          [this](const Request& r) { return effects(r); });
  }

  void start() override {
    for (int i = 0; i < s_.config().workers; ++i) threads_.emplace_back([this] { consume(); });
  }

  void stop() override {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }

 private:
  void sample_depths() {
    std::lock_guard<std::mutex> lock(depth_mu_);
    try {
      OrderQueue q(depth_conn_);
      const auto d = q.depths(worker_id_);
      queue_depth_.Set(static_cast<double>(d.queue));
      processing_depth_.Set(static_cast<double>(d.processing));
      dlq_depth_.Set(static_cast<double>(d.dead_letters));
    } catch (const RedisError&) {
      // Redis is down: keep the last values; dependency_up says why.
    }
  }

  // GET /orders/applied: {"applied": [order ids, oldest first], "count": N}, read from
  // orders:applied (so it covers every worker process sharing the Redis, and survives restarts).
  Response effects(const Request& r) {
    std::vector<std::string> applied;
    try {
      std::lock_guard<std::mutex> lock(depth_mu_);
      applied = OrderQueue(depth_conn_).applied_effects();
    } catch (const RedisError& e) {
      return problem_response(r, 503, "redis-unavailable", "Service Unavailable",
                              std::string("cannot read orders:applied: ") + e.what());
    }
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("applied");
    w.StartArray();
    for (const auto& id : applied) w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
    w.EndArray();
    w.Key("count");
    w.Uint64(applied.size());
    w.EndObject();
    return json_response(200, std::string(buf.GetString(), buf.GetSize()));
  }

  // The first consumer to reach Redis moves the previous run's unfinished jobs back to the
  // queue; the others wait for it, so nothing is taken before recovery is done.
  void ensure_recovered(OrderQueue& q) {
    if (recovered_done_.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lock(recovery_mu_);
    if (recovered_done_.load(std::memory_order_relaxed)) return;
    const int n = q.recover(worker_id_);
    recovered_.Increment(n);
    log_event(LogLevel::kInfo, "jobs_recovered",
              {{"count", std::to_string(n)}, {"list", order_keys::processing(worker_id_)}});
    recovered_done_.store(true, std::memory_order_release);
  }

  void consume() {
    RedisConnection conn(address_, std::chrono::milliseconds(500), std::chrono::seconds(2));
    OrderQueue q(conn);
    bool redis_ok = true;
    while (!s_.stop_signal().stop_requested()) {
      try {
        ensure_recovered(q);
        auto raw = q.take(worker_id_, kTakeBlock);
        redis_ok = true;
        if (raw) process(q, *raw);
      } catch (const RedisError& e) {
        if (redis_ok)
          log_event(LogLevel::kWarn, "redis_error", {{"error", e.what()}, {"during", "consume"}});
        redis_ok = false;
        s_.stop_signal().wait_for(kRedisRetryPause);
      }
    }
  }

  // Repeats a finishing step through Redis outages. The steps only act while the job is still
  // in the processing list (or, for complete, while the order is not done), so a repeat after a
  // lost reply has no second effect. Returns false when a stop came first: the job then stays
  // in the processing list and the next start recovers it.
  template <class F>
  bool until_done(F&& step) {
    while (true) {
      try {
        step();
        return true;
      } catch (const RedisError& e) {
        log_event(LogLevel::kWarn, "redis_error", {{"error", e.what()}, {"during", "finish"}});
        if (!s_.stop_signal().wait_for(kRedisRetryPause)) return false;
      }
    }
  }

  void process(OrderQueue& q, const std::string& raw) {
    busy_.Increment();
    struct Idle {
      Gauge& g;
      ~Idle() { g.Decrement(); }
    } idle{busy_};

    const auto job = decode_job(raw);
    if (!job) {
      log_event(LogLevel::kWarn, "job_dead_lettered",
                {{"reason", "unreadable job"}, {"job", raw.substr(0, 200)}});
      if (until_done([&] { q.dead_letter(worker_id_, raw, raw); })) dead_lettered_.Increment();
      return;
    }
    if (job->enqueued_at_ms > 0)
      queue_wait_.Observe(
          static_cast<double>(std::max<int64_t>(0, unix_time_ms() - job->enqueued_at_ms)) / 1000.0);
    const auto start = std::chrono::steady_clock::now();
    auto& faults = s_.faults();
    const Duration delay =
        s_.config().job_time +
        std::chrono::milliseconds(static_cast<int64_t>(faults.value("worker_delay_ms", start)));
    if (!s_.stop_signal().wait_for(delay)) {
      // Stopping in the middle of the job: hand it back to the front of the queue.
      if (until_done([&] { q.give_back(worker_id_, raw); }))
        log_event(LogLevel::kInfo, "job_requeued",
                  {{"order_id", job->order_id}, {"reason", "shutdown"}});
      return;
    }
    const bool fail = targeting_hit("worker_fail_rate", job->order_id,
                                    faults.value("worker_fail_rate", Service::now()));
    if (!fail) {
      // The worker_enforce_dedup lever rolls back the planted bug (the worker_skip_dedup fault).
      const bool skip_dedup = faults.flag("worker_skip_dedup", Service::now()) &&
                              !s_.levers().flag("worker_enforce_dedup", Service::now());
      OrderQueue::Completion done = OrderQueue::Completion::kApplied;
      if (!until_done([&] { done = q.complete(worker_id_, raw, job->order_id, skip_dedup); }))
        return;
      processed_.Increment();
      const char* outcome = "applied";
      switch (done) {
        case OrderQueue::Completion::kApplied:
          effects_applied_.Increment();
          break;
        case OrderQueue::Completion::kDuplicateSuppressed:
          duplicates_.Increment();
          outcome = "duplicate_suppressed";
          break;
        case OrderQueue::Completion::kDuplicateApplied:
          effects_applied_.Increment();
          duplicates_applied_.Increment();
          outcome = "duplicate_applied";
          break;
        case OrderQueue::Completion::kAlreadyAcknowledged:
          // A repeat after a lost reply: the first run did the work and its outcome is unknown.
          outcome = "acknowledged_before";
          break;
      }
      if (s_.config().access_log) {
        std::vector<LogField> fields = {{"order_id", job->order_id},
                                        {"request_id", job->request_id},
                                        {"outcome", outcome},
                                        {"attempt", std::to_string(job->attempt)}};
        add_trace_id(fields, *job);
        log_event(LogLevel::kInfo, "job_done", fields);
      }
    } else {
      failed_.Increment();
      Job next = *job;
      next.last_error = "worker_fail_rate";
      const auto max_retries =
          static_cast<int>(s_.levers().value("worker_max_retries", Service::now()));
      if (job->attempt < max_retries) {
        next.attempt = job->attempt + 1;
        if (!until_done([&] { q.retry(worker_id_, raw, encode_job(next)); })) return;
        retried_.Increment();
      } else {
        if (!until_done([&] { q.dead_letter(worker_id_, raw, encode_job(next)); })) return;
        dead_lettered_.Increment();
        std::vector<LogField> fields = {{"order_id", job->order_id},
                                        {"request_id", job->request_id},
                                        {"attempts", std::to_string(job->attempt + 1)},
                                        {"reason", next.last_error}};
        add_trace_id(fields, *job);
        log_event(LogLevel::kWarn, "job_dead_lettered", fields);
      }
    }
    job_duration_.Observe(seconds_between(start, std::chrono::steady_clock::now()));
  }

  Service& s_;
  RedisAddress address_;
  std::string worker_id_;
  RedisConnection probe_conn_;  // readiness thread only
  std::mutex depth_mu_;
  RedisConnection depth_conn_;  // scrapes and /orders/applied, under depth_mu_
  MetricsRegistry& registry_;
  Counter& processed_;
  Counter& duplicates_;
  Counter& effects_applied_;
  Counter& duplicates_applied_;
  Counter& failed_;
  Counter& retried_;
  Counter& dead_lettered_;
  Counter& recovered_;
  Histogram& job_duration_;
  Histogram& queue_wait_;
  Gauge& queue_depth_;
  Gauge& processing_depth_;
  Gauge& dlq_depth_;
  Gauge& busy_;
  std::mutex recovery_mu_;
  std::atomic<bool> recovered_done_{false};
  std::vector<std::thread> threads_;
};

}  // namespace

std::unique_ptr<RoleLogic> make_worker_logic(Service& service) {
  return std::make_unique<WorkerLogic>(service);
}

}  // namespace faultline::demo
