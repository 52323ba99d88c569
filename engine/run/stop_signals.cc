#include "run/stop_signals.h"

namespace faultline {

namespace {
std::atomic<int> g_received{0};

void on_signal(int sig) {
  int expected = 0;
  g_received.compare_exchange_strong(expected, sig);
}
}  // namespace

StopSignals::StopSignals() {
  g_received = 0;
  struct sigaction sa {};
  sa.sa_handler = &on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: blocking waits wake up and look at the flag
  sigaction(SIGINT, &sa, &old_int_);
  sigaction(SIGTERM, &sa, &old_term_);
}

StopSignals::~StopSignals() {
  sigaction(SIGINT, &old_int_, nullptr);
  sigaction(SIGTERM, &old_term_, nullptr);
}

int StopSignals::received() const {
  return g_received.load();
}

}  // namespace faultline
