#include "resilience/unqueued_orders.h"

#include <algorithm>
#include <stdexcept>

namespace faultline::demo {

UnqueuedOrders::UnqueuedOrders(size_t capacity) : capacity_(capacity) {
  if (capacity_ < 1) throw std::invalid_argument("UnqueuedOrders needs capacity >= 1");
}

void UnqueuedOrders::drop_stale_front() {
  while (!insertion_order_.empty()) {
    const Order& oldest = insertion_order_.front();
    auto it = slots_.find(oldest.order_id);
    if (it != slots_.end() && it->second.sequence == oldest.sequence) return;
    insertion_order_.pop_front();
  }
}

std::optional<std::string> UnqueuedOrders::add(Entry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string order_id = entry.job.order_id;
  std::optional<std::string> forgotten;
  auto it = slots_.find(order_id);
  if (it == slots_.end() && slots_.size() >= capacity_) {
    drop_stale_front();
    if (!insertion_order_.empty()) {
      forgotten = insertion_order_.front().order_id;
      slots_.erase(*forgotten);
      insertion_order_.pop_front();
    }
  }
  const uint64_t sequence = next_sequence_++;
  slots_.insert_or_assign(order_id, Slot{std::move(entry), sequence});
  insertion_order_.push_back(Order{order_id, sequence});
  // Removed entries leave records behind; keep the deque from growing without bound.
  if (insertion_order_.size() > 2 * capacity_ + 16) {
    std::erase_if(insertion_order_, [this](const Order& o) {
      auto s = slots_.find(o.order_id);
      return s == slots_.end() || s->second.sequence != o.sequence;
    });
  }
  return forgotten;
}

void UnqueuedOrders::remove(const std::string& order_id) {
  std::lock_guard<std::mutex> lock(mu_);
  slots_.erase(order_id);
  drop_stale_front();
}

std::vector<UnqueuedOrders::Entry> UnqueuedOrders::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Entry> out;
  out.reserve(slots_.size());
  for (const Order& o : insertion_order_) {
    auto it = slots_.find(o.order_id);
    if (it != slots_.end() && it->second.sequence == o.sequence) out.push_back(it->second.entry);
  }
  return out;
}

size_t UnqueuedOrders::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return slots_.size();
}

}  // namespace faultline::demo
