// A libcurl multi handle driven by an epoll instance through curl's socket API (private to the
// load engine). curl says which sockets to watch and when its timer is due; the owning loop
// waits on the epoll set and hands ready sockets and due timers back. Socket API plus epoll
// rather than curl_multi_poll: curl only touches the transfers whose sockets are ready, and
// the loop can sleep to an exact (sub-millisecond) deadline, which curl_multi_poll's
// millisecond timeout cannot.
//
// curl stops watching a keep-alive connection when its transfer ends and watches it again for
// the next request: two epoll_ctl calls per request. For sockets curl opened and closes
// through this class's callbacks (adopt() every easy handle), the registration is kept while
// the connection idles and reused as is, so a warm connection costs no epoll_ctl at all; an
// event on an idle connection (the server closed it) removes it from the set. Other sockets
// (the threaded resolver's) are added and removed as curl asks.
//
// Several multis may share one epoll set: each registers its sockets with its own tag in the
// upper 32 bits of epoll_event.data.u64 (fd in the lower 32).
//
// Thread-safety: one thread (the loop's).
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <vector>

namespace faultline {

class EpollCurlMulti {
 public:
  using Clock = std::chrono::steady_clock;

  EpollCurlMulti(int epoll_fd, uint32_t tag);
  ~EpollCurlMulti();
  EpollCurlMulti(const EpollCurlMulti&) = delete;
  EpollCurlMulti& operator=(const EpollCurlMulti&) = delete;

  CURLM* multi() const { return multi_; }

  // Routes the easy handle's socket opening and closing through this multi (and opens them
  // close-on-exec, so children the runner starts do not inherit connections).
  // REQUIRES: called for every easy handle before it is added to multi().
  void adopt(CURL* easy);

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
  // What this class knows about a file descriptor (indexed by fd).
  struct SocketState {
    bool ours = false;        // opened by open_socket, not yet closed by close_socket
    bool registered = false;  // in the epoll set with `events`
    bool watched = false;     // curl currently wants events for it
    uint32_t events = 0;
  };

  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* socket_data);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  static curl_socket_t open_socket(void* self, curlsocktype purpose, curl_sockaddr* address);
  static int close_socket(void* self, curl_socket_t fd);

  SocketState& state(int fd);
  bool watch(int fd, uint32_t events);
  void unregister(int fd);

  CURLM* multi_;
  int epoll_fd_;
  uint32_t tag_;
  Clock::time_point timer_deadline_ = Clock::time_point::max();
  std::vector<SocketState> sockets_;
};

}  // namespace faultline
