// Whether the api may hedge a charge now. A hedge helps against a latency *tail* - a few slow
// answers among fast ones - and only adds load when payment is slow for everyone (a slow
// database: the timeout cascade), where the hedge is as slow as the original. So the gate
// watches the last kWindow attempts and stays open only while at most half of them were slower
// than the hedge delay.
//
// Every attempt is recorded once: slow when it had not answered by the hedge delay, else fast.
// The window starts as if the last kWindow attempts had been fast, so a few slow first attempts
// do not shut it.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <array>
#include <mutex>

namespace faultline::demo {

class HedgeGate {
 public:
  static constexpr int kWindow = 100;

  void record(bool slow);
  bool open() const;
  int slow_in_window() const;

 private:
  mutable std::mutex mu_;
  std::array<bool, kWindow> slow_{};
  int next_ = 0;  // where the next outcome goes
  int slow_count_ = 0;
};

}  // namespace faultline::demo
