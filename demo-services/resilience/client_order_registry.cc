#include "resilience/client_order_registry.h"

#include <stdexcept>

namespace faultline::demo {

ClientOrderRegistry::ClientOrderRegistry(size_t capacity) : capacity_(capacity) {
  if (capacity_ < 1) throw std::invalid_argument("ClientOrderRegistry needs capacity >= 1");
}

ClientOrderRegistry::Claim ClientOrderRegistry::claim(const std::string& client_order_id,
                                                      const std::string& fingerprint,
                                                      const std::string& new_order_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Claim c;
  auto it = entries_.find(client_order_id);
  if (it == entries_.end()) {
    while (entries_.size() >= capacity_ && !insertion_order_.empty()) {
      entries_.erase(insertion_order_.front());
      insertion_order_.pop_front();
    }
    Entry e;
    e.order_id = new_order_id;
    e.fingerprint = fingerprint;
    entries_.emplace(client_order_id, std::move(e));
    insertion_order_.push_back(client_order_id);
    c.kind = Claim::Kind::kOwner;
    c.order_id = new_order_id;
    return c;
  }
  Entry& e = it->second;
  if (e.fingerprint != fingerprint) {
    c.kind = Claim::Kind::kConflict;
    return c;
  }
  c.order_id = e.order_id;
  switch (e.state) {
    case State::kDone:
      c.kind = Claim::Kind::kDone;
      c.body = e.body;
      break;
    case State::kInProgress:
      c.kind = Claim::Kind::kInProgress;
      break;
    case State::kOpen:
      e.state = State::kInProgress;
      c.kind = Claim::Kind::kOwner;
      c.charged = e.charged;
      break;
  }
  return c;
}

void ClientOrderRegistry::finish(const std::string& client_order_id, std::string body) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(client_order_id);
  if (it == entries_.end()) return;  // forgotten (capacity) while in progress
  it->second.state = State::kDone;
  it->second.body = std::move(body);
}

void ClientOrderRegistry::release(const std::string& client_order_id, bool charged) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(client_order_id);
  if (it == entries_.end()) return;
  it->second.state = State::kOpen;
  it->second.charged = it->second.charged || charged;
}

size_t ClientOrderRegistry::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace faultline::demo
