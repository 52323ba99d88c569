#include "run/arrival_source.h"

#include "plan/plan_json.h"

namespace faultline {

ArrivalSource::ArrivalSource(const Plan& plan, std::string base_url,
                             std::function<void(const Arrival&)> on_arrival, uint32_t shard_index,
                             uint32_t shard_count)
    : plan_(plan),
      stream_(plan),
      base_url_(std::move(base_url)),
      on_arrival_(std::move(on_arrival)),
      shard_index_(shard_index),
      shard_count_(shard_count == 0 ? 1 : shard_count) {}

bool ArrivalSource::next(PlannedRequest& out) {
  auto arrival = stream_.next();
  while (arrival && arrival->seq % shard_count_ != shard_index_) arrival = stream_.next();
  if (!arrival) return false;
  schedule_hash_.update(arrival_to_json(*arrival));
  schedule_hash_.update("\n");
  if (on_arrival_) on_arrival_(*arrival);
  ++count_;
  out.seq = arrival->seq;
  out.intended = arrival->intended;
  out.route = arrival->route;
  out.method = arrival->method;
  out.url.assign(base_url_).append(arrival->path);
  out.headers.clear();
  for (const auto& [name, value] : arrival->headers) out.headers.push_back(name + ": " + value);
  out.headers.push_back("traceparent: " + arrival->traceparent);
  out.body = std::move(arrival->body);
  out.request_id = std::move(arrival->request_id);
  out.ack_pointer = plan_.routes[arrival->route].ack_id;
  return true;
}

std::string ArrivalSource::schedule_sha256() {
  return schedule_hash_.hex_digest();
}

}  // namespace faultline
