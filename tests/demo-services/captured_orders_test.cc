// Payment's list of captured orders behind GET /charges/captured: capture order, each order id
// once, bounded.
#include "resilience/captured_orders.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

using faultline::demo::CapturedOrders;

TEST_CASE("captured orders: listed in capture order, each order id once") {
  CapturedOrders captured;
  CHECK(captured.record("ord-2"));
  CHECK(captured.record("ord-1"));
  CHECK_FALSE(captured.record("ord-2"));  // a second charge of one order
  CHECK(captured.record("ord-3"));
  CHECK(captured.ids() == std::vector<std::string>{"ord-2", "ord-1", "ord-3"});
  CHECK(captured.size() == 3);
}

TEST_CASE("captured orders: beyond the capacity the oldest are forgotten") {
  CapturedOrders captured(3);
  for (const char* id : {"a", "b", "c", "d"}) CHECK(captured.record(id));
  CHECK(captured.ids() == std::vector<std::string>{"b", "c", "d"});
  CHECK_FALSE(captured.record("c"));
  // A forgotten id captured again is new.
  CHECK(captured.record("a"));
  CHECK(captured.ids() == std::vector<std::string>{"c", "d", "a"});
  // Ids longer than the small-string buffer survive the moves of the list.
  const std::string long_id(100, 'x');
  CHECK(captured.record(long_id));
  CHECK_FALSE(captured.record(long_id));
  CHECK(captured.ids() == std::vector<std::string>{"d", "a", long_id});
}

TEST_CASE("captured orders: concurrent records of one order id keep it once") {
  CapturedOrders captured;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) captured.record("ord-" + std::to_string(i));
    });
  for (auto& t : threads) t.join();
  CHECK(captured.size() == 1000);
}
