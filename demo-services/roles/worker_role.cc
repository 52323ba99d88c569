// The worker role: --workers threads consume orders:queue reliably (queue/order_queue.h explains
// the keys and the guarantees). Per job: --job-time plus worker_delay_ms, then worker_fail_rate
// decides (targeting by order id) whether processing fails. A failed job is retried (attempt+1,
// back of the queue) up to --max-retries times, then dead-lettered. A successful job runs its
// effect once per order id however often it is delivered.
//
// On start the worker moves whatever its processing list holds (jobs a killed predecessor with
// the same --worker-id had taken) back to the queue before consuming. On SIGTERM a job in its
// delay is handed back to the front of the queue; a job past its delay is finished.
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "common/targeting.h"
#include "core/event_log.h"
#include "core/service.h"
#include "queue/order_queue.h"
#include "queue/redis_connection.h"

namespace faultline::demo {

namespace {

constexpr auto kProbeTimeout = std::chrono::milliseconds(200);
constexpr auto kTakeBlock = std::chrono::milliseconds(250);
constexpr auto kRedisRetryPause = std::chrono::milliseconds(200);

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
                                 "effect.")
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
    s.metrics().pool_threads.with({"jobs"}).set(s.config().workers);
    registry_.add_collect_hook([this] {
      s_.metrics().pool_saturation.with({"jobs"}).set(busy_.value() / s_.config().workers);
      sample_depths();
    });
    s.readiness().add_dependency("redis", true, [this] { return redis_ping(probe_conn_); });
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
      queue_depth_.set(static_cast<double>(d.queue));
      processing_depth_.set(static_cast<double>(d.processing));
      dlq_depth_.set(static_cast<double>(d.dead_letters));
    } catch (const RedisError&) {
      // Redis is down: keep the last values; dependency_up says why.
    }
  }

  // The first consumer to reach Redis moves the previous run's unfinished jobs back to the
  // queue; the others wait for it, so nothing is taken before recovery is done.
  void ensure_recovered(OrderQueue& q) {
    if (recovered_done_.load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lock(recovery_mu_);
    if (recovered_done_.load(std::memory_order_relaxed)) return;
    const int n = q.recover(worker_id_);
    recovered_.inc(n);
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
    busy_.add(1);
    struct Idle {
      Gauge& g;
      ~Idle() { g.add(-1); }
    } idle{busy_};

    const auto job = decode_job(raw);
    if (!job) {
      log_event(LogLevel::kWarn, "job_dead_lettered",
                {{"reason", "unreadable job"}, {"job", raw.substr(0, 200)}});
      if (until_done([&] { q.dead_letter(worker_id_, raw, raw); })) dead_lettered_.inc();
      return;
    }
    if (job->enqueued_at_ms > 0)
      queue_wait_.observe(
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
      bool applied = false;
      if (!until_done([&] { applied = q.complete(worker_id_, raw, job->order_id); })) return;
      processed_.inc();
      if (!applied) duplicates_.inc();
    } else {
      failed_.inc();
      Job next = *job;
      next.last_error = "worker_fail_rate";
      if (job->attempt < s_.config().max_retries) {
        next.attempt = job->attempt + 1;
        if (!until_done([&] { q.retry(worker_id_, raw, encode_job(next)); })) return;
        retried_.inc();
      } else {
        if (!until_done([&] { q.dead_letter(worker_id_, raw, encode_job(next)); })) return;
        dead_lettered_.inc();
        log_event(LogLevel::kWarn, "job_dead_lettered",
                  {{"order_id", job->order_id},
                   {"request_id", job->request_id},
                   {"attempts", std::to_string(job->attempt + 1)},
                   {"reason", next.last_error}});
      }
    }
    job_duration_.observe(seconds_between(start, std::chrono::steady_clock::now()));
  }

  Service& s_;
  RedisAddress address_;
  std::string worker_id_;
  RedisConnection probe_conn_;  // readiness thread only
  std::mutex depth_mu_;
  RedisConnection depth_conn_;  // scrapes, under depth_mu_
  MetricsRegistry& registry_;
  Counter& processed_;
  Counter& duplicates_;
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
