// The api's orders that are paid but not queued (what the reconciler enqueues): one entry per
// order, oldest first, removed once queued, bounded.
#include "resilience/unqueued_orders.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using faultline::demo::Job;
using faultline::demo::UnqueuedOrders;

namespace {

UnqueuedOrders::Entry entry(const std::string& order_id, const std::string& request_id = "r",
                            const std::string& client_order_id = "") {
  Job job;
  job.order_id = order_id;
  job.request_id = request_id;
  return {job, client_order_id};
}

std::vector<std::string> ids(const UnqueuedOrders& orders) {
  std::vector<std::string> out;
  for (const auto& e : orders.snapshot()) out.push_back(e.job.order_id);
  return out;
}

}  // namespace

TEST_CASE("unqueued orders: oldest first, one entry per order, gone once queued") {
  UnqueuedOrders orders;
  CHECK_FALSE(orders.add(entry("ord-1", "r1", "c-1")));
  CHECK_FALSE(orders.add(entry("ord-2")));
  CHECK(ids(orders) == std::vector<std::string>{"ord-1", "ord-2"});
  // A client retry that failed to enqueue again replaces the job (its request id).
  CHECK_FALSE(orders.add(entry("ord-1", "r1~retry", "c-1")));
  const auto snapshot = orders.snapshot();
  REQUIRE(snapshot.size() == 2);
  CHECK(snapshot[0].job.order_id == "ord-2");
  CHECK(snapshot[1].job.request_id == "r1~retry");
  CHECK(snapshot[1].client_order_id == "c-1");
  orders.remove("ord-2");
  orders.remove("ord-9");  // unknown: nothing happens
  CHECK(ids(orders) == std::vector<std::string>{"ord-1"});
  CHECK(orders.size() == 1);
}

TEST_CASE("unqueued orders: beyond the capacity the oldest is forgotten, and said so") {
  UnqueuedOrders orders(2);
  CHECK_FALSE(orders.add(entry("a")));
  CHECK_FALSE(orders.add(entry("b")));
  CHECK(orders.add(entry("c")) == std::optional<std::string>("a"));
  orders.remove("b");
  CHECK_FALSE(orders.add(entry("d")));
  CHECK(ids(orders) == std::vector<std::string>{"c", "d"});
}

TEST_CASE("unqueued orders: many adds and removes keep the order and the bound") {
  UnqueuedOrders orders(3);
  CHECK_FALSE(orders.add(entry("p")));
  CHECK_FALSE(orders.add(entry("q")));
  // Each removal leaves an insertion record behind; they are compacted, and never forget a live
  // entry.
  for (int i = 0; i < 1000; ++i) {
    CHECK_FALSE(orders.add(entry("x" + std::to_string(i))));
    orders.remove("x" + std::to_string(i));
  }
  CHECK(ids(orders) == std::vector<std::string>{"p", "q"});
  CHECK_FALSE(orders.add(entry("r")));
  CHECK(orders.add(entry("s")) == std::optional<std::string>("p"));
  CHECK(ids(orders) == std::vector<std::string>{"q", "r", "s"});
}
