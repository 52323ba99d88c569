// A libcurl multi handle driven by an epoll instance through curl's socket API (private to the
// load engine). curl says which sockets to watch and when its timer is due; the owning loop
// waits on the epoll set and hands ready sockets and due timers back. Socket API plus epoll
// rather than curl_multi_poll: curl only touches the transfers whose sockets are ready, and
// the loop can sleep to an exact (sub-millisecond) deadline, which curl_multi_poll's
// millisecond timeout cannot.
//
// Several multis may share one epoll set: each registers its sockets with its own tag in the
// upper 32 bits of epoll_event.data.u64 (fd in the lower 32).
//
// Thread-safety: one thread (the loop's).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>

namespace faultline {

class EpollCurlMulti {
 public:
  using Clock = std::chrono::steady_clock;

  EpollCurlMulti(int epoll_fd, uint32_t tag);
  ~EpollCurlMulti();
  EpollCurlMulti(const EpollCurlMulti&) = delete;
  EpollCurlMulti& operator=(const EpollCurlMulti&) = delete;

  CURLM* multi() const { return multi_; }
  uint32_t tag() const { return tag_; }

  // Lets curl act on a socket the epoll set reported ready.
  void on_socket_ready(int fd, uint32_t epoll_events);
  // Lets curl run its timeouts if its timer is due at `now` (also starts newly added handles).
  void run_timer_if_due(Clock::time_point now);
  // When curl wants its timer run; time_point::max() when it has none.
  Clock::time_point timer_deadline() const { return timer_deadline_; }

  // Calls done(CURL*, CURLcode) for each finished transfer. The handle is still in the multi:
  // `done` removes it (curl_multi_remove_handle) before reusing or freeing it.
  template <class Done>
  void for_each_done(Done&& done) {
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued))
      if (msg->msg == CURLMSG_DONE) done(msg->easy_handle, msg->data.result);
  }

 private:
  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);

  CURLM* multi_;
  int epoll_fd_;
  uint32_t tag_;
  Clock::time_point timer_deadline_ = Clock::time_point::max();
};

}  // namespace faultline
