// The api's client_order_id memory: one order id per client id, one owner at a time, replays of
// created orders, conflicts for another request, and a bounded size.
#include "resilience/client_order_registry.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using faultline::demo::ClientOrderRegistry;
using Kind = ClientOrderRegistry::Claim::Kind;

TEST_CASE("client orders: the first claim owns the order, a finished order is replayed") {
  ClientOrderRegistry reg;
  const auto first = reg.claim("c-1", "42|12.5", "ord-1");
  CHECK(first.kind == Kind::kOwner);
  CHECK(first.order_id == "ord-1");
  CHECK_FALSE(first.charged);
  // While the owner works, a repeat is told to come back (and which order it is).
  const auto busy = reg.claim("c-1", "42|12.5", "ord-2");
  CHECK(busy.kind == Kind::kInProgress);
  CHECK(busy.order_id == "ord-1");
  reg.finish("c-1", "{\"order_id\":\"ord-1\"}");
  const auto again = reg.claim("c-1", "42|12.5", "ord-3");
  CHECK(again.kind == Kind::kDone);
  CHECK(again.order_id == "ord-1");
  CHECK(again.body == "{\"order_id\":\"ord-1\"}");
  CHECK(reg.size() == 1);
}

TEST_CASE("client orders: a released order is owned again under the same id, charge remembered") {
  ClientOrderRegistry reg;
  REQUIRE(reg.claim("c-1", "f", "ord-1").kind == Kind::kOwner);
  reg.release("c-1", false);  // payment failed: nothing captured
  auto retry = reg.claim("c-1", "f", "ord-9");
  CHECK(retry.kind == Kind::kOwner);
  CHECK(retry.order_id == "ord-1");
  CHECK_FALSE(retry.charged);
  reg.release("c-1", true);  // captured, then the enqueue failed
  retry = reg.claim("c-1", "f", "ord-10");
  CHECK(retry.kind == Kind::kOwner);
  CHECK(retry.order_id == "ord-1");
  CHECK(retry.charged);
  reg.release("c-1", false);  // a later failure does not forget the capture
  CHECK(reg.claim("c-1", "f", "ord-11").charged);
}

TEST_CASE("client orders: another request under a used id is a conflict") {
  ClientOrderRegistry reg;
  REQUIRE(reg.claim("c-1", "42|12.5", "ord-1").kind == Kind::kOwner);
  CHECK(reg.claim("c-1", "42|13", "ord-2").kind == Kind::kConflict);
  CHECK(reg.claim("c-2", "42|13", "ord-3").kind == Kind::kOwner);
}

TEST_CASE("client orders: concurrent claims of one id have exactly one owner") {
  ClientOrderRegistry reg;
  std::atomic<int> owners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      if (reg.claim("c-race", "f", "ord-" + std::to_string(t)).kind == Kind::kOwner) ++owners;
    });
  for (auto& t : threads) t.join();
  CHECK(owners == 1);
}

TEST_CASE("client orders: beyond capacity the oldest id is forgotten") {
  ClientOrderRegistry reg(2);
  reg.claim("a", "f", "ord-a");
  reg.claim("b", "f", "ord-b");
  reg.claim("c", "f", "ord-c");
  CHECK(reg.size() == 2);
  reg.finish("a", "late");  // forgotten: changes nothing
  const auto a = reg.claim("a", "f", "ord-a2");
  CHECK(a.kind == Kind::kOwner);
  CHECK(a.order_id == "ord-a2");
  CHECK(reg.claim("c", "f", "x").kind == Kind::kInProgress);
}
