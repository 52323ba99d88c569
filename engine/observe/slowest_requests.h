// SlowestRequests: the k slowest requests of a run (k = 50 for the report), kept whole so the
// report can name their request ids, routes and phases. Bounded: at most k records whatever
// the run length; offering a request that is not among the k slowest costs one comparison.
//
// Order: higher latency first; equal latencies by lower seq first, so the result does not
// depend on the order requests completed in (and merging shards gives the same set as one
// run would).
//
// Thread-safety: a value type; no internal locking.
#pragma once

#include <cstddef>
#include <vector>

#include "observe/sample_record.h"

namespace faultline::observe {

class SlowestRequests {
 public:
  static constexpr size_t kDefaultK = 50;

  explicit SlowestRequests(size_t k = kDefaultK) : k_(k) {}

  void offer(const SampleRecord& sample);
  void merge(const SlowestRequests& other);

  // The kept records, slowest first.
  std::vector<SampleRecord> slowest_first() const;
  size_t size() const { return heap_.size(); }
  size_t k() const { return k_; }

 private:
  size_t k_;
  std::vector<SampleRecord> heap_;  // min-heap: the least slow kept record on top
};

}  // namespace faultline::observe
