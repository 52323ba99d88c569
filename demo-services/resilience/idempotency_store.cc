#include "resilience/idempotency_store.h"

#include <cstdio>

namespace faultline::demo {

IdempotencyStore::IdempotencyStore(size_t capacity, Duration ttl)
    : capacity_(capacity < 1 ? 1 : capacity), ttl_(ttl) {}

void IdempotencyStore::prune(Clock::time_point now) {
  while (!insertion_order_.empty()) {
    const Order& oldest = insertion_order_.front();
    auto it = slots_.find(oldest.key);
    const bool current = it != slots_.end() && it->second.sequence == oldest.sequence;
    if (current) {
      const bool expired = now - it->second.stored_at >= ttl_;
      if (!expired && slots_.size() <= capacity_) break;
      slots_.erase(it);
    }
    insertion_order_.pop_front();
  }
}

std::optional<IdempotencyStore::Entry> IdempotencyStore::find(const std::string& key,
                                                              Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  prune(now);
  auto it = slots_.find(key);
  if (it == slots_.end()) return std::nullopt;
  return it->second.entry;
}

std::optional<IdempotencyStore::Entry> IdempotencyStore::insert_if_absent(const std::string& key,
                                                                          Entry entry,
                                                                          Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  prune(now);
  auto it = slots_.find(key);
  if (it != slots_.end()) return it->second.entry;
  const uint64_t sequence = next_sequence_++;
  slots_.emplace(key, Slot{std::move(entry), now, sequence});
  insertion_order_.push_back(Order{key, sequence});
  prune(now);
  return std::nullopt;
}

size_t IdempotencyStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slots_.size();
}

std::string charge_fingerprint(const std::string& order_id, double amount) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", amount);
  return order_id + "|" + buf;
}

bool valid_idempotency_key(const std::string& key) {
  if (key.empty() || key.size() > 255) return false;
  for (char c : key)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

}  // namespace faultline::demo
