#include "run/http_loop_multi.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

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

// Closes the cached connections while sockets_ still exists (close_socket updates it).
EpollCurlMulti::~EpollCurlMulti() {
  curl_multi_cleanup(multi_);
}

void EpollCurlMulti::adopt(CURL* easy) {
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &EpollCurlMulti::open_socket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, this);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, &EpollCurlMulti::close_socket);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, this);
}

EpollCurlMulti::SocketState& EpollCurlMulti::state(int fd) {
  if (static_cast<size_t>(fd) >= sockets_.size()) sockets_.resize(static_cast<size_t>(fd) + 64);
  return sockets_[static_cast<size_t>(fd)];
}

void EpollCurlMulti::on_socket_ready(int fd, uint32_t epoll_events) {
  if (!state(fd).watched) {
    // An idle connection kept in the set: curl does not want to hear about it (it checks a
    // connection before reusing it), and a level-triggered event would keep firing.
    unregister(fd);
    return;
  }
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

bool EpollCurlMulti::watch(int fd, uint32_t events) {
  SocketState& s = state(fd);
  s.watched = true;
  if (s.registered && s.ours && s.events == events) return true;  // a warm connection
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = (static_cast<uint64_t>(tag_) << 32) | static_cast<uint32_t>(fd);
  // A registration we believe in may be gone (a socket closed behind our back and its number
  // reused), and one we do not know of may exist: fall back to the other operation.
  int op = s.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (::epoll_ctl(epoll_fd_, op, fd, &ev) != 0) {
    op = op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (::epoll_ctl(epoll_fd_, op, fd, &ev) != 0) return false;
  }
  s.registered = true;
  s.events = events;
  return true;
}

void EpollCurlMulti::unregister(int fd) {
  SocketState& s = state(fd);
  // The fd may already be closed (and so gone from the set): nothing to undo then.
  if (s.registered) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  s.registered = s.watched = false;
}

int EpollCurlMulti::on_socket(CURL* /*easy*/, curl_socket_t fd, int what, void* self_ptr,
                              void* /*socket_data*/) {
  auto* self = static_cast<EpollCurlMulti*>(self_ptr);
  if (what == CURL_POLL_REMOVE) {
    SocketState& s = self->state(fd);
    if (s.ours)
      s.watched = false;  // keep the registration for the connection's next request
    else
      self->unregister(fd);
    return 0;
  }
  const uint32_t events =
      ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
  return self->watch(fd, events) ? 0 : -1;
}

int EpollCurlMulti::on_timer(CURLM* /*multi*/, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<EpollCurlMulti*>(self_ptr);
  self->timer_deadline_ = timeout_ms < 0 ? Clock::time_point::max()
                                         : Clock::now() + std::chrono::milliseconds(timeout_ms);
  return 0;
}

curl_socket_t EpollCurlMulti::open_socket(void* self_ptr, curlsocktype /*purpose*/,
                                          curl_sockaddr* address) {
  auto* self = static_cast<EpollCurlMulti*>(self_ptr);
  const int fd = ::socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
  if (fd < 0) return CURL_SOCKET_BAD;
  self->state(fd) = SocketState{};  // a new socket: whatever we knew of this number is stale
  self->state(fd).ours = true;
  return fd;
}

int EpollCurlMulti::close_socket(void* self_ptr, curl_socket_t fd) {
  auto* self = static_cast<EpollCurlMulti*>(self_ptr);
  // Closing alone leaves the registration behind if a forked child still holds the socket.
  self->unregister(fd);
  self->state(fd) = SocketState{};
  return ::close(fd);
}

}  // namespace faultline
