#include "observe/slowest_requests.h"

#include <algorithm>

namespace faultline::observe {

namespace {

// True when a is slower than b (ranks before it).
bool slower(const SampleRecord& a, const SampleRecord& b) {
  if (a.latency_us != b.latency_us) return a.latency_us > b.latency_us;
  return a.seq < b.seq;
}

// Heap comparator putting the least slow record on top.
bool heap_order(const SampleRecord& a, const SampleRecord& b) {
  return slower(a, b);
}

}  // namespace

void SlowestRequests::offer(const SampleRecord& sample) {
  if (k_ == 0) return;
  if (heap_.size() < k_) {
    heap_.push_back(sample);
    std::push_heap(heap_.begin(), heap_.end(), heap_order);
    return;
  }
  if (!slower(sample, heap_.front())) return;  // the common case: not among the slowest
  std::pop_heap(heap_.begin(), heap_.end(), heap_order);
  heap_.back() = sample;
  std::push_heap(heap_.begin(), heap_.end(), heap_order);
}

void SlowestRequests::merge(const SlowestRequests& other) {
  for (const SampleRecord& s : other.heap_) offer(s);
}

std::vector<SampleRecord> SlowestRequests::slowest_first() const {
  std::vector<SampleRecord> out = heap_;
  std::sort(out.begin(), out.end(), slower);
  return out;
}

}  // namespace faultline::observe
