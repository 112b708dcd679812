#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "mtcache/messages/detail/lease_protocol.hpp"
#include "mtcache/messages/error.hpp"
#include "support/fleet_nodes.hpp"
#include "support/redis_cluster.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;
using mtcache::testing::fleet_nodes;

namespace {

// Three nodes in one process with one Redis as their shared L2 and no CAF links between
// them: load leases are all that keeps them from loading a key each (support/fleet_nodes.hpp).
class FlightLease : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(redis.start()) << redis.error();
    fleet.linked = false;
    fleet.options.load_lease = true;
  }

  void start() {
    auto err = fleet.start(3);
    ASSERT_TRUE(err.empty()) << err;
  }

  mtcache::testing::node& at(size_t i) { return *fleet.nodes[i]; }

  cache_stats stats(size_t i) { return fleet_nodes::stats(at(i)); }

  std::string render(const caf::error& err) { return fleet.render(err); }

  // The name Redis keeps the lease of `key` under.
  static std::string lease_name(const std::string& key, const std::string& prefix = "") {
    return prefix + std::string{detail::lease_marker} + key;
  }

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

// A loader that never answers (its node stalled) and says when it was called.
loader_actor silent_loader(caf::actor_system& sys, std::shared_ptr<std::atomic<bool>> called) {
  return sys.spawn([called](loader_actor::pointer self) -> loader_actor::behavior_type {
    return {
        [=](load_atom, const std::string&) -> caf::result<bytes> {
          *called = true;
          return self->make_response_promise<bytes>();
        },
    };
  });
}

TEST_F(FlightLease, ThreeNodesWithoutPeersLoadAColdKeyOnce) {
  start();
  std::string key = "cold";
  auto res = fleet_nodes::callers{fleet, {&at(0), &at(1), &at(2)}, key, 200, 300ms}.collect();
  ASSERT_TRUE(res.errors.empty()) << render(res.errors.front());
  expect_all_loaded(res.values, key, 600);
  EXPECT_EQ(fleet.loader_calls->load(), 1);
  // One node held the lease and loaded; the two others took the value from Redis.
  EXPECT_EQ(fleet.total(&cache_stats::lease_acquired), 1u);
  EXPECT_EQ(fleet.total(&cache_stats::lease_waited), 2u);
  EXPECT_EQ(fleet.total(&cache_stats::lease_fallbacks), 0u);
  EXPECT_EQ(fleet.total(&cache_stats::loads), 1u);
  EXPECT_EQ(redis.command({"GET", key}), "loaded:" + key);
  // The holder gave the lease back once the value was written.
  EXPECT_TRUE(eventually([&] { return redis.command({"EXISTS", lease_name(key)}) == "0"; }));
}

TEST_F(FlightLease, WithoutTheLeaseEveryNodeLoadsForItself) {
  fleet.options.load_lease = false;
  start();
  std::string key = "cold";
  auto res = fleet_nodes::callers{fleet, {&at(0), &at(1), &at(2)}, key, 50, 300ms}.collect();
  ASSERT_TRUE(res.errors.empty()) << render(res.errors.front());
  expect_all_loaded(res.values, key, 150);
  EXPECT_EQ(fleet.loader_calls->load(), 3);
  EXPECT_EQ(fleet.total(&cache_stats::lease_acquired), 0u);
}

TEST_F(FlightLease, AFailedLoadOfTheHolderLeavesTheKeyToAnotherNode) {
  start();
  std::string key = "flaky";
  // Node 0 takes the lease; its load fails after 300 ms.
  fleet_nodes::callers failing{fleet, {&at(0)}, key, 50, 300ms, true};
  ASSERT_TRUE(eventually([&] { return fleet.loader_calls->load() == 1; }));
  fleet_nodes::callers others{fleet, {&at(1), &at(2)}, key, 100, 100ms};
  // The holder's callers get its error, as without a lease ...
  auto lost = failing.collect();
  ASSERT_EQ(lost.errors.size(), 50u);
  for (auto& err : lost.errors)
    EXPECT_TRUE(is(err, errc::loader_failed)) << render(err);
  // ... and the lease it gave back went to one of the others, which loaded for both.
  auto res = others.collect();
  ASSERT_TRUE(res.errors.empty()) << render(res.errors.front());
  expect_all_loaded(res.values, key, 200);
  EXPECT_EQ(fleet.loader_calls->load(), 2);
  EXPECT_EQ(fleet.total(&cache_stats::lease_acquired), 2u);
  EXPECT_EQ(fleet.total(&cache_stats::lease_waited), 1u);
}

TEST_F(FlightLease, AHolderThatNeverAnswersIsOvertakenOnceItsLeaseExpires) {
  fleet.options.load_lease_time = 300ms;
  fleet.redis_tier.key_prefix = "app:";
  start();
  std::string key = "stuck";
  auto called = std::make_shared<std::atomic<bool>>(false);
  {
    // Node 0 takes the lease and its loader never answers (its load timeout is 10 s).
    caf::scoped_actor self{at(0).sys()};
    self->send(at(0).client().handle(), compute_atom::value, key, compute_options{},
               silent_loader(at(0).sys(), called));
    ASSERT_TRUE(eventually([&] { return called->load(); }));
  }
  // The lease lives beside the keys, under the tier's prefix.
  EXPECT_EQ(redis.command({"EXISTS", lease_name(key, "app:")}), "1");
  auto started = std::chrono::steady_clock::now();
  auto res = fleet_nodes::callers{fleet, {&at(1), &at(2)}, key, 100, 50ms}.collect();
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(res.errors.empty()) << render(res.errors.front());
  expect_all_loaded(res.values, key, 200);
  // Once the lease expired, one of the two took it and loaded for both.
  EXPECT_EQ(fleet.loader_calls->load(), 1);
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 3s);
  EXPECT_EQ(stats(1).lease_acquired + stats(2).lease_acquired, 1u);
  EXPECT_EQ(stats(1).lease_waited + stats(2).lease_waited, 1u);
  EXPECT_EQ(redis.command({"GET", "app:" + key}), "loaded:" + key);
  // Node 0 stops with its load still running; its waiter is told.
  fleet.nodes[0].reset();
}

TEST_F(FlightLease, EagerRefreshesOfOneKeyOnEveryNodeLoadOnce) {
  start();
  std::string key = "hot";
  compute_options opts{strategy::custom(1s)};
  opts.eager_refresh = 0.5;
  auto loader = [&](size_t i) { return fleet.counting_loader(at(i), 200ms); };
  for (size_t i = 0; i < 3; ++i)
    ASSERT_TRUE(at(i).client().get_or_compute(key, opts, loader(i)));
  ASSERT_EQ(fleet.loader_calls->load(), 1);
  // Past half the TTL, every node answers at once and starts a refresh: the node that takes
  // the lease loads, the others leave the load to it.
  std::this_thread::sleep_for(600ms);
  for (size_t i = 0; i < 3; ++i) {
    auto res = at(i).client().get_or_compute(key, opts, loader(i));
    ASSERT_TRUE(res && res->found);
  }
  ASSERT_TRUE(eventually([&] { return fleet.total(&cache_stats::eager_refreshes) == 3; }));
  ASSERT_TRUE(eventually([&] { return fleet.total(&cache_stats::in_flight) == 0; }));
  EXPECT_EQ(fleet.loader_calls->load(), 2);
  EXPECT_EQ(fleet.total(&cache_stats::lease_acquired), 2u);
  EXPECT_EQ(fleet.total(&cache_stats::eager_refresh_failures), 0u);
}

TEST_F(FlightLease, FailSafeServesTheStaleValueWhileAnotherNodeHoldsTheLease) {
  fleet.memory_tier.fail_safe_window = 10s;
  start();
  std::string key = "expiring";
  // Node 1 loaded the key once; it expired everywhere, and node 1's L1 keeps it for
  // fail-safe.
  ASSERT_TRUE(at(1).client().get_or_compute(key, compute_options{strategy::custom(100ms)},
                                            fleet.counting_loader(at(1), 0ms)));
  ASSERT_TRUE(eventually([&] { return redis.command({"EXISTS", key}) == "0"; }));
  // Node 0 takes the lease for a load of a second.
  fleet_nodes::callers holder{fleet, {&at(0)}, key, 1, 1s};
  ASSERT_TRUE(eventually([&] { return fleet.loader_calls->load() == 2; }));
  compute_options opts;
  opts.fail_safe = true;
  opts.soft_timeout = 100ms;
  auto started = std::chrono::steady_clock::now();
  auto res = at(1).client().get_or_compute(key, opts, fleet.counting_loader(at(1), 0ms));
  auto took = std::chrono::steady_clock::now() - started;
  ASSERT_TRUE(res) << render(res.error());
  EXPECT_TRUE(res->found);
  EXPECT_TRUE(res->stale);
  EXPECT_LT(took, 800ms);
  auto loaded = holder.collect();
  ASSERT_TRUE(loaded.errors.empty()) << render(loaded.errors.front());
  // Node 1 did not load: it took the holder's value once it came.
  EXPECT_EQ(fleet.loader_calls->load(), 2);
  EXPECT_TRUE(eventually([&] { return stats(1).lease_waited == 1; }));
}

TEST_F(FlightLease, WithRedisDownEachNodeLoadsForItself) {
  start();
  redis.kill();
  std::string key = "offline";
  auto res = fleet_nodes::callers{fleet, {&at(0), &at(1), &at(2)}, key, 50, 100ms}.collect();
  ASSERT_TRUE(res.errors.empty()) << render(res.errors.front());
  expect_all_loaded(res.values, key, 150);
  EXPECT_EQ(fleet.loader_calls->load(), 3);
  EXPECT_EQ(fleet.total(&cache_stats::lease_fallbacks), 3u);
  EXPECT_EQ(fleet.total(&cache_stats::lease_acquired), 0u);
}

TEST_F(FlightLease, WithRedisStalledEachNodeLoadsForItselfInTime) {
  fleet.redis_tier.request_timeout = 200ms;
  start();
  redis.pause();
  std::string key = "stalled";
  auto started = std::chrono::steady_clock::now();
  auto res = fleet_nodes::callers{fleet, {&at(0), &at(1), &at(2)}, key, 50, 100ms}.collect();
  auto took = std::chrono::steady_clock::now() - started;
  redis.resume();
  ASSERT_TRUE(res.errors.empty()) << render(res.errors.front());
  expect_all_loaded(res.values, key, 150);
  EXPECT_EQ(fleet.loader_calls->load(), 3);
  EXPECT_EQ(fleet.total(&cache_stats::lease_fallbacks), 3u);
  EXPECT_LT(took, 3s);
}

TEST_F(FlightLease, ConfigRefusesALeaseWithoutARedisTier) {
  auto cfg = cache_config::embedded();
  cfg.options.load_lease = true;
  auto err = validate(cfg);
  EXPECT_TRUE(is(err, errc::invalid_config));
  auto redis_tier = cache_config::defaults();
  redis_tier.options.load_lease = true;
  EXPECT_FALSE(validate(redis_tier));
  redis_tier.tiers[1].redis.url = "redis+cluster://127.0.0.1:7000,127.0.0.1:7001";
  EXPECT_FALSE(validate(redis_tier)) << "a cluster holds leases too";
  redis_tier.options.load_lease_time = 0ms;
  EXPECT_TRUE(is(validate(redis_tier), errc::invalid_config));
}

TEST_F(FlightLease, KeysCannotTakeTheLeaseNamespace) {
  start();
  auto res = at(0).client().set(lease_name("k"), bytes{"v"});
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::invalid_key));
}

// On a Redis Cluster the lease lives on the node that serves its own key's slot.
TEST(FlightLeaseOnACluster, ThreeNodesLoadAColdKeyOnce) {
  mtcache::testing::redis_cluster cluster;
  mtcache::testing::redis_cluster::options three_primaries;
  three_primaries.replicas = 0;
  ASSERT_TRUE(cluster.start(three_primaries)) << cluster.error();
  fleet_nodes fleet{cluster.node(0)};
  fleet.linked = false;
  fleet.options.load_lease = true;
  fleet.redis_tier.url = cluster.url();
  auto err = fleet.start(3);
  ASSERT_TRUE(err.empty()) << err;
  std::string key = "cold";
  auto res =
      fleet_nodes::callers{fleet,
                           {fleet.nodes[0].get(), fleet.nodes[1].get(), fleet.nodes[2].get()},
                           key,
                           200,
                           300ms}
          .collect();
  ASSERT_TRUE(res.errors.empty()) << fleet.render(res.errors.front());
  expect_all_loaded(res.values, key, 600);
  EXPECT_EQ(fleet.loader_calls->load(), 1);
  EXPECT_EQ(fleet.total(&cache_stats::lease_acquired), 1u);
  EXPECT_EQ(fleet.total(&cache_stats::lease_waited), 2u);
  EXPECT_EQ(fleet.total(&cache_stats::lease_fallbacks), 0u);
}

} // namespace
