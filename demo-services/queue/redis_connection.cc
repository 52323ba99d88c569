#include "queue/redis_connection.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <charconv>

namespace faultline::demo {

namespace {

timeval to_timeval(Duration d) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(d.count() / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(d.count() % 1'000'000);
  return tv;
}

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::kNil;
  }
  return out;
}

bool looks_like_timeout(std::string_view message) {
  return message.find("temporarily unavailable") != std::string_view::npos ||
         message.find("timed out") != std::string_view::npos;
}

}  // namespace

std::optional<RedisAddress> parse_redis_address(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  int port = 0;
  const auto port_text = text.substr(colon + 1);
  const auto res = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (res.ec != std::errc() || res.ptr != port_text.data() + port_text.size() || port < 1 ||
      port > 65535)
    return std::nullopt;
  return RedisAddress{std::string(text.substr(0, colon)), port};
}

RedisConnection::RedisConnection(RedisAddress address, Duration connect_timeout,
                                 Duration command_timeout)
    : address_(std::move(address)),
      connect_timeout_(connect_timeout),
      command_timeout_(command_timeout) {}

RedisConnection::~RedisConnection() {
  close();
}

void RedisConnection::close() {
  if (ctx_) {
    redisFree(ctx_);
    ctx_ = nullptr;
  }
}

void RedisConnection::connect() {
  ctx_ =
      redisConnectWithTimeout(address_.host.c_str(), address_.port, to_timeval(connect_timeout_));
  if (!ctx_) throw RedisError("redis " + address_.to_string() + ": out of memory", false);
  if (ctx_->err) {
    const std::string why = ctx_->errstr;
    close();
    throw RedisError("redis " + address_.to_string() + ": " + why, looks_like_timeout(why));
  }
  redisSetTimeout(ctx_, to_timeval(command_timeout_));
}

RedisReply RedisConnection::command(const std::vector<std::string>& argv) {
  if (!ctx_) connect();
  std::vector<const char*> args;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    args.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* reply = static_cast<redisReply*>(
      redisCommandArgv(ctx_, static_cast<int>(args.size()), args.data(), lens.data()));
  if (!reply) {
    const std::string why = ctx_->errstr;
    close();
    throw RedisError("redis " + address_.to_string() + ": " + why, looks_like_timeout(why));
  }
  RedisReply out = convert(reply);
  freeReplyObject(reply);
  if (out.type == RedisReply::Type::kError)
    throw RedisError("redis " + argv.front() + ": " + out.str, false);
  return out;
}

std::string redis_ping(RedisConnection& conn) {
  try {
    conn.command({"PING"});
    return "";
  } catch (const RedisError& e) {
    return e.what();
  }
}

RedisPool::RedisPool(RedisAddress address, Duration connect_timeout, Duration command_timeout)
    : address_(std::move(address)),
      connect_timeout_(connect_timeout),
      command_timeout_(command_timeout) {}

std::unique_ptr<RedisConnection> RedisPool::acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
  }
  return std::make_unique<RedisConnection>(address_, connect_timeout_, command_timeout_);
}

void RedisPool::release(std::unique_ptr<RedisConnection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(std::move(conn));
}

void RedisPool::run(const std::function<void(RedisConnection&)>& fn) {
  auto conn = acquire();
  try {
    fn(*conn);
    release(std::move(conn));
  } catch (...) {
    release(std::move(conn));  // closed on transport errors; reconnects on next use
    throw;
  }
}

}  // namespace faultline::demo
