#include "queue/order_queue.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace faultline::demo {

namespace {

// KEYS: processing, done mark, effects counter, applied list. ARGV: raw job, order id,
// "dedup" | "skip". Returns 1 applied, 0 duplicate suppressed, 2 duplicate applied, -1 when the
// job was not in the processing list (acknowledged before: nothing happens twice).
constexpr const char* kCompleteScript = R"lua(
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then
  return -1
end
local result = 0
if redis.call('SET', KEYS[2], '1', 'NX') then
  result = 1
elseif ARGV[3] == 'skip' then
  result = 2
end
if result ~= 0 then
  redis.call('INCR', KEYS[3])
  redis.call('RPUSH', KEYS[4], ARGV[2])
end
return result
)lua";

// KEYS: processing, target list. ARGV: raw job, next job, "front" | "back".
constexpr const char* kMoveScript = R"lua(
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
  if ARGV[3] == 'front' then
    redis.call('RPUSH', KEYS[2], ARGV[2])
  else
    redis.call('LPUSH', KEYS[2], ARGV[2])
  end
  return 1
end
return 0
)lua";

}  // namespace

namespace order_keys {
std::string processing(std::string_view worker_id) {
  return "orders:processing:" + std::string(worker_id);
}
std::string done(std::string_view order_id) {
  return "orders:done:" + std::string(order_id);
}
}  // namespace order_keys

int64_t unix_time_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string encode_job(const Job& job) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("order_id");
  w.String(job.order_id);
  w.Key("request_id");
  w.String(job.request_id);
  w.Key("user_id");
  w.String(job.user_id);
  w.Key("amount");
  w.Double(job.amount);
  w.Key("attempt");
  w.Int(job.attempt);
  w.Key("enqueued_at_ms");
  w.Int64(job.enqueued_at_ms);
  if (!job.last_error.empty()) {
    w.Key("last_error");
    w.String(job.last_error);
  }
  if (!job.traceparent.empty()) {
    w.Key("traceparent");
    w.String(job.traceparent);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::optional<Job> decode_job(std::string_view raw) {
  rapidjson::Document doc;
  doc.Parse(raw.data(), raw.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  // Const access: clang 14 finds == on RapidJSON's mutable member iterators ambiguous.
  const rapidjson::Value& obj = doc;
  auto str = [&](const char* key) -> std::optional<std::string> {
    auto it = obj.FindMember(key);
    if (it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
    return std::string(it->value.GetString(), it->value.GetStringLength());
  };
  Job job;
  auto order_id = str("order_id");
  if (!order_id || order_id->empty()) return std::nullopt;
  job.order_id = *order_id;
  job.request_id = str("request_id").value_or("");
  job.user_id = str("user_id").value_or("");
  job.last_error = str("last_error").value_or("");
  job.traceparent = str("traceparent").value_or("");
  if (auto it = obj.FindMember("amount"); it != obj.MemberEnd() && it->value.IsNumber())
    job.amount = it->value.GetDouble();
  if (auto it = obj.FindMember("attempt"); it != obj.MemberEnd()) {
    if (!it->value.IsInt() || it->value.GetInt() < 0) return std::nullopt;
    job.attempt = it->value.GetInt();
  }
  if (auto it = obj.FindMember("enqueued_at_ms"); it != obj.MemberEnd() && it->value.IsInt64())
    job.enqueued_at_ms = it->value.GetInt64();
  return job;
}

void OrderQueue::enqueue(const Job& job) {
  conn_.command({"LPUSH", std::string(order_keys::kQueue), encode_job(job)});
}

std::optional<std::string> OrderQueue::take(std::string_view worker_id, Duration block) {
  // BLMOVE takes a timeout in seconds with decimals (Redis >= 6.2).
  const double seconds = std::max(0.01, static_cast<double>(block.count()) / 1e6);
  char timeout[32];
  std::snprintf(timeout, sizeof timeout, "%.3f", seconds);
  RedisReply r = conn_.command({"BLMOVE", std::string(order_keys::kQueue),
                                order_keys::processing(worker_id), "RIGHT", "LEFT", timeout});
  if (r.type != RedisReply::Type::kString) return std::nullopt;
  return std::move(r.str);
}

OrderQueue::Completion OrderQueue::complete(std::string_view worker_id, const std::string& raw,
                                            std::string_view order_id, bool skip_dedup) {
  RedisReply r = conn_.command({"EVAL", kCompleteScript, "4", order_keys::processing(worker_id),
                                order_keys::done(order_id), std::string(order_keys::kEffects),
                                std::string(order_keys::kApplied), raw, std::string(order_id),
                                skip_dedup ? "skip" : "dedup"});
  switch (r.integer) {
    case 1:
      return Completion::kApplied;
    case 0:
      return Completion::kDuplicateSuppressed;
    case 2:
      return Completion::kDuplicateApplied;
    default:
      return Completion::kAlreadyAcknowledged;
  }
}

std::vector<std::string> OrderQueue::applied_effects() {
  RedisReply r = conn_.command({"LRANGE", std::string(order_keys::kApplied), "0", "-1"});
  std::vector<std::string> ids;
  ids.reserve(r.elements.size());
  for (auto& e : r.elements) ids.push_back(std::move(e.str));
  return ids;
}

bool OrderQueue::move(std::string_view worker_id, const std::string& raw, std::string_view target,
                      const std::string& next, bool front) {
  RedisReply r = conn_.command({"EVAL", kMoveScript, "2", order_keys::processing(worker_id),
                                std::string(target), raw, next, front ? "front" : "back"});
  return r.integer == 1;
}

bool OrderQueue::retry(std::string_view worker_id, const std::string& raw,
                       const std::string& next) {
  return move(worker_id, raw, order_keys::kQueue, next, false);
}

bool OrderQueue::dead_letter(std::string_view worker_id, const std::string& raw,
                             const std::string& next) {
  return move(worker_id, raw, order_keys::kDeadLetters, next, false);
}

bool OrderQueue::give_back(std::string_view worker_id, const std::string& raw) {
  return move(worker_id, raw, order_keys::kQueue, raw, true);
}

int OrderQueue::recover(std::string_view worker_id) {
  // The processing list has the newest job on the left. Moving left-first to the queue's right
  // end (the consuming end) leaves the oldest recovered job first in line. Each move is atomic,
  // so a crash during recovery loses nothing either.
  int moved = 0;
  while (true) {
    RedisReply r = conn_.command({"LMOVE", order_keys::processing(worker_id),
                                  std::string(order_keys::kQueue), "LEFT", "RIGHT"});
    if (r.type != RedisReply::Type::kString) break;
    ++moved;
  }
  return moved;
}

OrderQueue::Depths OrderQueue::depths(std::string_view worker_id) {
  Depths d;
  d.queue = conn_.command({"LLEN", std::string(order_keys::kQueue)}).integer;
  d.processing = conn_.command({"LLEN", order_keys::processing(worker_id)}).integer;
  d.dead_letters = conn_.command({"LLEN", std::string(order_keys::kDeadLetters)}).integer;
  return d;
}

}  // namespace faultline::demo
