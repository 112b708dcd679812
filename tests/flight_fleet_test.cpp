#include <chrono>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include "mtcache/messages/error.hpp"
#include "support/fleet_nodes.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;
using mtcache::testing::fleet_nodes;

namespace {

// Three nodes linked over CAF with one Redis as their shared L2 (support/fleet_nodes.hpp).
class FleetFlight : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(redis.start()) << redis.error(); }

  void start() {
    auto err = fleet.start(3);
    ASSERT_TRUE(err.empty()) << err;
  }

  mtcache::testing::node& at(size_t i) { return *fleet.nodes[i]; }

  cache_stats stats(size_t i) { return fleet_nodes::stats(at(i)); }

  std::string render(const caf::error& err) { return fleet.render(err); }

  mtcache::testing::redis_server redis;
  fleet_nodes fleet{redis};
};

void expect_all_loaded(const std::vector<lookup>& values, const std::string& key, size_t n) {
  ASSERT_EQ(values.size(), n);
  for (auto& v : values) {
    EXPECT_TRUE(v.found);
    EXPECT_EQ(v.value.view(), "loaded:" + key);
  }
}

TEST_F(FleetFlight, ThreeNodesLoadAColdKeyOnceOnItsOwner) {
  start();
  auto key = fleet.key_owned_by(2);
  auto res = fleet_nodes::callers{fleet, {&at(0), &at(1), &at(2)}, key, 200, 300ms}.collect();
  ASSERT_TRUE(res.errors.empty()) << render(res.errors.front());
  expect_all_loaded(res.values, key, 600);
  EXPECT_EQ(fleet.loader_calls->load(), 1);
  // The two other nodes handed their load to the owner, which loaded it once for all.
  EXPECT_EQ(stats(0).fleet_forwarded, 1u);
  EXPECT_EQ(stats(1).fleet_forwarded, 1u);
  EXPECT_EQ(stats(2).fleet_served, 2u);
  EXPECT_EQ(stats(2).loads, 1u);
  EXPECT_EQ(fleet.total(&cache_stats::fleet_fallbacks), 0u);
  // Every node keeps the value in its own L1; the owner wrote the shared L2.
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(at(i).in_l1(key), std::optional<std::string>{"loaded:" + key});
  EXPECT_EQ(redis.command({"GET", key}), "loaded:" + key);
}

TEST_F(FleetFlight, WithoutFleetFlightsEveryNodeLoadsForItself) {
  fleet.options.fleet_flights = false;
  start();
  auto key = fleet.key_owned_by(2);
  auto res = fleet_nodes::callers{fleet, {&at(0), &at(1), &at(2)}, key, 50, 300ms}.collect();
  ASSERT_TRUE(res.errors.empty()) << render(res.errors.front());
  expect_all_loaded(res.values, key, 150);
  EXPECT_EQ(fleet.loader_calls->load(), 3);
  EXPECT_EQ(fleet.total(&cache_stats::fleet_forwarded), 0u);
}

TEST_F(FleetFlight, AnOwnerLeavingDuringTheLoadCostsOneLoadMoreAtMost) {
  start();
  auto key = fleet.key_owned_by(2);
  fleet_nodes::callers callers{fleet, {&at(0), &at(1)}, key, 100, 1s};
  // The owner runs the load; it leaves before the load ends.
  ASSERT_TRUE(eventually([&] { return fleet.loader_calls->load() == 1; }));
  fleet.nodes[2].reset();
  auto res = callers.collect();
  ASSERT_TRUE(res.errors.empty()) << render(res.errors.front());
  expect_all_loaded(res.values, key, 200);
  // The two nodes left agree on the next owner: one more load, not one each.
  EXPECT_EQ(fleet.loader_calls->load(), 2);
  EXPECT_EQ(stats(0).fleet_fallbacks + stats(1).fleet_fallbacks, 2u);
}

TEST_F(FleetFlight, AnOwnerThatDoesNotAnswerInTimeIsBypassed) {
  fleet.options.fleet_owner_wait = 200ms;
  start();
  auto key = fleet.key_owned_by(2);
  // The owner's own caller starts a load that takes far longer than the others wait.
  fleet_nodes::callers slow{fleet, {&at(2)}, key, 1, 2s};
  ASSERT_TRUE(eventually([&] { return fleet.loader_calls->load() == 1; }));
  auto res = fleet_nodes::callers{fleet, {&at(0), &at(1)}, key, 20, 50ms}.collect();
  ASSERT_TRUE(res.errors.empty()) << render(res.errors.front());
  expect_all_loaded(res.values, key, 40);
  // The owner's load, and one by whichever of the two others ranks next, for both.
  EXPECT_EQ(fleet.loader_calls->load(), 2);
  EXPECT_EQ(stats(0).fleet_fallbacks + stats(1).fleet_fallbacks, 2u);
  auto owners = slow.collect();
  ASSERT_TRUE(owners.errors.empty()) << render(owners.errors.front());
  expect_all_loaded(owners.values, key, 1);
}

TEST_F(FleetFlight, AnAskingNodeLeavingDuringTheLoadLeavesTheOwnerToItsOwnLoader) {
  start();
  auto key = fleet.key_owned_by(2);
  // The owner loads with the loader of the node that asked first...
  auto asking = std::make_unique<fleet_nodes::callers>(
      fleet, std::vector<mtcache::testing::node*>{&at(0)}, key, 10, 1s);
  ASSERT_TRUE(eventually([&] { return fleet.loader_calls->load() == 1; }));
  // ...its own callers join, and that node leaves during the load.
  fleet_nodes::callers owners{fleet, {&at(2)}, key, 5, 50ms};
  ASSERT_TRUE(eventually([&] { return stats(2).flight_joins >= 5; }));
  asking.reset();
  fleet.nodes[0].reset();
  auto res = owners.collect();
  ASSERT_TRUE(res.errors.empty()) << render(res.errors.front());
  expect_all_loaded(res.values, key, 5);
  EXPECT_EQ(fleet.loader_calls->load(), 2);
}

TEST_F(FleetFlight, TheOwnersLoadErrorReachesEveryNodeWithoutASecondLoad) {
  start();
  auto key = fleet.key_owned_by(0);
  auto res = fleet_nodes::callers{fleet, {&at(0), &at(1), &at(2)}, key, 10, 100ms, true}.collect();
  EXPECT_TRUE(res.values.empty());
  ASSERT_EQ(res.errors.size(), 30u);
  for (auto& err : res.errors)
    EXPECT_TRUE(is(err, errc::loader_failed)) << render(err);
  EXPECT_EQ(fleet.loader_calls->load(), 1);
  EXPECT_EQ(fleet.total(&cache_stats::fleet_fallbacks), 0u);
}

} // namespace
