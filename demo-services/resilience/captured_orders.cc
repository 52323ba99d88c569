#include "resilience/captured_orders.h"

#include <stdexcept>

namespace faultline::demo {

CapturedOrders::CapturedOrders(size_t capacity) : capacity_(capacity) {
  if (capacity_ < 1) throw std::invalid_argument("CapturedOrders needs capacity >= 1");
}

bool CapturedOrders::record(const std::string& order_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (known_.count(order_id)) return false;
  if (order_.size() >= capacity_) {
    known_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(order_id);
  known_.insert(order_.back());
  return true;
}

std::vector<std::string> CapturedOrders::ids() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {order_.begin(), order_.end()};
}

size_t CapturedOrders::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return order_.size();
}

}  // namespace faultline::demo
