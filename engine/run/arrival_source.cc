#include "run/arrival_source.h"

#include "plan/plan_json.h"

namespace faultline {

// One loop's view of the stream.
class ArrivalSource::Partition : public RequestSource {
 public:
  Partition(ArrivalSource& all, uint32_t index) : all_(all), index_(index) {}

  bool next(PlannedRequest& out) override {
    Arrival a;
    {
      std::lock_guard lock(all_.mutex_);
      if (!all_.fill(index_)) return false;
      a = std::move(all_.queued_[index_].front());
      all_.queued_[index_].pop_front();
      ++all_.handed_out_;
    }
    out.seq = a.seq;
    out.intended = a.intended;
    out.route = a.route;
    out.phase = a.phase;
    out.method = a.method;
    out.url.assign(all_.base_url_).append(a.path);
    out.headers.clear();
    for (const auto& [name, value] : a.headers) out.headers.push_back(name + ": " + value);
    out.headers.push_back("traceparent: " + a.traceparent);
    out.body = std::move(a.body);
    out.request_id = std::move(a.request_id);
    out.ack_pointer = all_.plan_.routes[a.route].ack_id;
    return true;
  }

 private:
  ArrivalSource& all_;
  const uint32_t index_;
};

ArrivalSource::ArrivalSource(const Plan& plan, std::string base_url, uint32_t shard_index,
                             uint32_t shard_count, uint32_t partitions)
    : plan_(plan),
      base_url_(std::move(base_url)),
      shard_index_(shard_index),
      shard_count_(shard_count == 0 ? 1 : shard_count),
      stream_(plan),
      queued_(partitions == 0 ? 1 : partitions) {
  for (uint32_t k = 0; k < queued_.size(); ++k)
    partitions_.push_back(std::make_unique<Partition>(*this, k));
}

ArrivalSource::~ArrivalSource() = default;

std::vector<RequestSource*> ArrivalSource::partitions() {
  std::vector<RequestSource*> out;
  for (auto& p : partitions_) out.push_back(p.get());
  return out;
}

bool ArrivalSource::fill(uint32_t k) {
  while (queued_[k].empty()) {
    auto arrival = stream_.next();
    while (arrival && arrival->seq % shard_count_ != shard_index_) arrival = stream_.next();
    if (!arrival) return false;
    schedule_hash_.update(arrival_to_json(*arrival));
    schedule_hash_.update("\n");
    const auto owner = static_cast<uint32_t>((arrival->seq / shard_count_) % queued_.size());
    queued_[owner].push_back(std::move(*arrival));
  }
  return true;
}

uint64_t ArrivalSource::handed_out() const {
  std::lock_guard lock(mutex_);
  return handed_out_;
}

std::string ArrivalSource::schedule_sha256() {
  std::lock_guard lock(mutex_);
  return schedule_hash_.hex_digest();
}

}  // namespace faultline
