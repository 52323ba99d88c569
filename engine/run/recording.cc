#include "run/recording.h"

#include <algorithm>
#include <set>

namespace faultline {

std::vector<Duration> scrape_ticks(const Plan& plan) {
  std::set<int64_t> ticks;
  for (const auto& t : plan.scrape_ticks) ticks.insert(t.count());
  for (const auto& p : plan.phases) ticks.insert(p.start.count());
  for (const auto& w : judging_windows(plan)) {
    if (w.start >= Duration{0} && w.start <= plan.total) ticks.insert(w.start.count());
    if (w.end >= Duration{0} && w.end <= plan.total) ticks.insert(w.end.count());
  }
  std::vector<Duration> out;
  for (int64_t t : ticks) out.emplace_back(t);
  return out;
}

RunRecording::RunRecording(const Plan& plan, const BundleLayout& bundle,
                           RunObservations& observations, Duration flush_interval)
    : plan_(plan),
      bundle_(bundle),
      obs_(observations),
      flush_interval_(flush_interval),
      ticks_(scrape_ticks(plan)),
      sample_log_(bundle.samples()),
      scrape_log_(bundle.scrape_log()) {
  obs_.record_scrapes_to(&scrape_log_);
  thread_ = std::thread([this] { run(); });
}

RunRecording::~RunRecording() {
  try {
    finish();
  } catch (...) {
  }
}

void RunRecording::on_sample(const RequestSample& s) {
  observe::SampleRecord r;
  r.seq = s.seq;
  r.request_id.assign(s.request_id);
  const RouteSpec& route = plan_.routes[s.route];
  r.route = route.name;
  r.method = route.method;
  r.path.assign(s.url.substr(std::min(base_url_length_, s.url.size())));
  r.phase = plan_.phases[s.phase].name;
  r.intended_us = s.intended_us;
  r.sent_us = s.sent_us;
  r.latency_us = s.latency_us;
  r.status = s.status;
  r.error_class.assign(s.error_class);
  r.bytes_in = static_cast<int64_t>(s.bytes_in);
  r.bytes_out = static_cast<int64_t>(s.bytes_out);
  r.ack_id.assign(s.ack_id);
  r.problem.assign(s.problem);
  std::lock_guard lock(mutex_);
  samples_.push_back(std::move(r));
}

void RunRecording::on_scrape(const std::string& job, size_t tick_index,
                             std::optional<std::string> body, std::string error, bool snapshot) {
  {
    std::lock_guard lock(mutex_);
    scrapes_.push_back({job, tick_index, std::move(body), std::move(error), snapshot});
  }
  wake_.notify_one();
}

std::optional<std::string> RunRecording::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

void RunRecording::record_batch(std::vector<observe::SampleRecord>& samples,
                                std::deque<PendingScrape>& scrapes) {
  for (const auto& r : samples) {
    obs_.record(r);
    sample_log_.append(r);
  }
  samples.clear();
  for (auto& s : scrapes) {
    if (s.snapshot && s.body) save_scrape_snapshot(bundle_, s.job, ticks_[s.tick], *s.body);
    obs_.scrape_done(s.job, s.tick, ticks_, std::move(s.body), std::move(s.error));
  }
  scrapes.clear();
}

// The recording thread: takes what was handed over in batches, records it, and flushes both
// logs every flush_interval.
void RunRecording::run() {
  using Clock = std::chrono::steady_clock;
  std::vector<observe::SampleRecord> samples;
  std::deque<PendingScrape> scrapes;
  auto next_flush = Clock::now() + flush_interval_;
  bool failed = false;
  while (true) {
    bool closing;
    {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(50),
                     [&] { return closing_ || !scrapes_.empty(); });
      samples.swap(samples_);
      scrapes.swap(scrapes_);
      closing = closing_;
    }
    if (!failed) {
      try {
        record_batch(samples, scrapes);
        if (closing || Clock::now() >= next_flush) {
          sample_log_.flush();
          scrape_log_.flush();
          next_flush = Clock::now() + flush_interval_;
        }
      } catch (const std::exception& e) {
        failed = true;
        std::lock_guard lock(mutex_);
        failure_ = std::string("recording the run: ") + e.what();
      }
    }
    samples.clear();
    scrapes.clear();
    if (closing) return;
  }
}

void RunRecording::finish() {
  if (finished_) return;
  finished_ = true;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  obs_.record_scrapes_to(nullptr);
  sample_log_.close();
  scrape_log_.close();
}

}  // namespace faultline
