// Small pure pieces of the demo services: job encoding, request-id rules, log lines, addresses.
#include <doctest/doctest.h>

#include "core/event_log.h"
#include "http/http_server.h"
#include "queue/order_queue.h"
#include "queue/redis_connection.h"
#include "resilience/payment_client.h"

using namespace faultline::demo;

TEST_CASE("jobs: encode and decode round-trip - bad jobs are refused") {
  Job job;
  job.order_id = "ord-1";
  job.request_id = "t-\"7\"";
  job.user_id = "42";
  job.amount = 12.5;
  job.attempt = 2;
  job.enqueued_at_ms = 1700000000123;
  job.last_error = "worker_fail_rate";
  const std::string raw = encode_job(job);
  auto back = decode_job(raw);
  REQUIRE(back.has_value());
  CHECK(back->order_id == job.order_id);
  CHECK(back->request_id == job.request_id);
  CHECK(back->user_id == job.user_id);
  CHECK(back->amount == job.amount);
  CHECK(back->attempt == 2);
  CHECK(back->enqueued_at_ms == job.enqueued_at_ms);
  CHECK(back->last_error == job.last_error);
  CHECK(encode_job(*back) == raw);
  for (const char* bad : {"", "{", "[]", R"({"request_id": "x"})", R"({"order_id": ""})",
                          R"({"order_id": 5})", R"({"order_id": "o", "attempt": -1})"}) {
    CAPTURE(bad);
    CHECK_FALSE(decode_job(bad).has_value());
  }
  CHECK(order_keys::processing("w1") == "orders:processing:w1");
  CHECK(order_keys::done("ord-1") == "orders:done:ord-1");
}

TEST_CASE("request ids: retries to payment are <id>~<n> - ids are checked") {
  CHECK(attempt_request_id("t-5", 0) == "t-5");
  CHECK(attempt_request_id("t-5", 1) == "t-5~1");
  CHECK(attempt_request_id("t-5", 2) == "t-5~2");
  CHECK(hedge_request_id("t-5") == "t-5~h1");
  CHECK(hedge_request_id(attempt_request_id("t-5", 1)) == "t-5~1~h1");
  CHECK(charge_idempotency_key("ord-1a2b3c4d-7") == "ord-1a2b3c4d-7");
  CHECK(valid_request_id("t-5"));
  CHECK(valid_request_id(std::string(200, 'a')));
  CHECK_FALSE(valid_request_id(""));
  CHECK_FALSE(valid_request_id(std::string(201, 'a')));
  CHECK_FALSE(valid_request_id("has space"));
  CHECK_FALSE(valid_request_id("tab\there"));
  CHECK_FALSE(valid_request_id("caf\xc3\xa9"));
}

TEST_CASE("log lines are logfmt with quoting where needed") {
  CHECK(
      format_log_line("2024-01-01T00:00:00.000Z", "api", LogLevel::kWarn, "request_failed",
                      {{"request_id", "t-1"}, {"detail", "payment said \"no\"\nbye"}, {"e", ""}}) ==
      "ts=2024-01-01T00:00:00.000Z role=api level=warn event=request_failed request_id=t-1 "
      "detail=\"payment said \\\"no\\\"\\nbye\" e=\"\"");
}

TEST_CASE("redis addresses are HOST:PORT") {
  auto a = parse_redis_address("127.0.0.1:6379");
  REQUIRE(a.has_value());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 6379);
  CHECK(a->to_string() == "127.0.0.1:6379");
  for (const char* bad : {"", "localhost", ":6379", "h:", "h:0", "h:65536", "h:12x"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_redis_address(bad).has_value());
  }
}
