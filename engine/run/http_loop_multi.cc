#include "run/http_loop_multi.h"

#include <sys/epoll.h>

#include <cerrno>

#include "common/error.h"
#include "net/http_call.h"

namespace faultline {

EpollCurlMulti::EpollCurlMulti(int epoll_fd, uint32_t tag) : epoll_fd_(epoll_fd), tag_(tag) {
  ensure_curl_initialized();
  multi_ = curl_multi_init();
  if (multi_ == nullptr) throw EnvironmentError("curl_multi_init failed");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &EpollCurlMulti::on_socket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &EpollCurlMulti::on_timer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

EpollCurlMulti::~EpollCurlMulti() {
  curl_multi_cleanup(multi_);
}

void EpollCurlMulti::on_socket_ready(int fd, uint32_t epoll_events) {
  // Errors and hang-ups are passed as readable too: curl then reads and classifies the failure
  // itself (a bare CURL_CSELECT_ERR makes it report a generic send error).
  int flags = 0;
  if (epoll_events & (EPOLLIN | EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_IN;
  if (epoll_events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
  if (epoll_events & EPOLLERR) flags |= CURL_CSELECT_ERR;
  int running = 0;
  curl_multi_socket_action(multi_, fd, flags, &running);
}

void EpollCurlMulti::run_timer_if_due(Clock::time_point now) {
  if (timer_deadline_ > now) return;
  timer_deadline_ = Clock::time_point::max();  // curl sets a new one through on_timer
  int running = 0;
  curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
}

int EpollCurlMulti::on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* self_ptr,
                              void* socket_data) {
  auto* self = static_cast<EpollCurlMulti*>(self_ptr);
  if (what == CURL_POLL_REMOVE) {
    // The fd may already be closed (and so gone from the set): nothing to undo then.
    ::epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    return 0;
  }
  epoll_event ev{};
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  ev.data.u64 = (static_cast<uint64_t>(self->tag_) << 32) | static_cast<uint32_t>(fd);
  // socket_data is non-null once this socket is in the set (curl forgets it on REMOVE). The
  // fallbacks cover an fd number that was closed and reused behind curl's back.
  int op = socket_data != nullptr ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (::epoll_ctl(self->epoll_fd_, op, fd, &ev) != 0) {
    op = errno == ENOENT ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (::epoll_ctl(self->epoll_fd_, op, fd, &ev) != 0) return -1;
  }
  if (socket_data == nullptr) curl_multi_assign(self->multi_, fd, self);
  return 0;
}

int EpollCurlMulti::on_timer(CURLM* /*multi*/, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<EpollCurlMulti*>(self_ptr);
  self->timer_deadline_ = timeout_ms < 0 ? Clock::time_point::max()
                                         : Clock::now() + std::chrono::milliseconds(timeout_ms);
  return 0;
}

}  // namespace faultline
