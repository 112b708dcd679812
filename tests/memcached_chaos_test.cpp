// memcached killed under load and restarted: L1 keeps serving, requests touching memcached
// fail fast instead of waiting, the tier reconnects once the server is back, and writes
// that failed there meanwhile are repaired.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/cache_config.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/memcached_server.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using mtcache::testing::eventually;

namespace {

class MemcachedChaos : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override { ASSERT_TRUE(memcached.start()) << memcached.error(); }

  void TearDown() override {
    client.reset();
    if (cache)
      stop_cache(*cache);
  }

  mtcache::testing::memcached_server memcached;
  std::optional<cache_actor> cache;
  std::unique_ptr<blocking_cache> client;
};

TEST_F(MemcachedChaos, KilledServerFailsFastL1KeepsServingAndTheTierComesBack) {
  cache_config cfg;
  cfg.add_memory_tier(tier_config::as_l1());
  memcached_tier_config m;
  m.url = memcached.url();
  m.request_timeout = 200ms;
  m.backoff_initial = 20ms;
  m.backoff_max = 100ms;
  cfg.add_memcached_tier(tier_config::as_l2(), m);
  cfg.options.tier_timeout = 500ms;
  auto spawned = spawn_cache(sys, cfg);
  ASSERT_TRUE(spawned) << sys.render(spawned.error());
  cache = *spawned;
  client = std::make_unique<blocking_cache>(sys, *cache, 5s);
  ASSERT_TRUE(eventually([&] {
    auto h = client->health();
    return h && h->status == health_status::healthy;
  }));
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(client->set("hot:" + std::to_string(i), bytes{"v"}, strategy::long_term()));

  // Readers of L1-resident keys and readers of keys only memcached could have, for the
  // whole outage; every answer must come well within the tier timeout.
  std::atomic<bool> stop{false};
  std::atomic<int> l1_hits{0};
  std::atomic<int> answered{0};
  std::atomic<int64_t> slowest_us{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t)
    readers.emplace_back([&, t] {
      blocking_cache reader{sys, *cache, 5s};
      for (int i = 0; !stop; ++i) {
        auto key = t == 0 ? "hot:" + std::to_string(i % 50) : "cold:" + std::to_string(i);
        auto begin = clock_type::now();
        auto res = reader.get(key);
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - begin)
                      .count();
        if (us > slowest_us)
          slowest_us = us;
        if (res) {
          ++answered;
          if (res->found && res->level == 1)
            ++l1_hits;
        }
      }
    });
  std::this_thread::sleep_for(100ms);
  memcached.kill();
  auto hits_at_kill = l1_hits.load();
  // The tier notices at once (the connection closes) and fails writes there fast.
  ASSERT_TRUE(eventually([&] {
    auto ack = client->set("during", bytes{"outage"});
    return ack && ack->written == 1 && ack->failed.size() == 1;
  }));
  auto ack = client->set("during", bytes{"outage"});
  ASSERT_TRUE(ack) << sys.render(ack.error());
  EXPECT_TRUE(is(ack->failed.at(0).reason, errc::backend_unavailable))
      << sys.render(ack->failed.at(0).reason);
  auto health = client->health();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, health_status::degraded);
  EXPECT_FALSE(health->tiers.at(1).ok);
  std::this_thread::sleep_for(300ms);
  EXPECT_GT(l1_hits.load(), hits_at_kill + 10);

  ASSERT_TRUE(memcached.restart()) << memcached.error();
  ASSERT_TRUE(eventually([&] {
    auto h = client->health();
    return h && h->status == health_status::healthy;
  }));
  // The write that failed there meanwhile is repaired once the server is back.
  EXPECT_TRUE(
      eventually([&] { return memcached.command("mg during v\r\n") == "VA 6\r\noutage\r\n"; }));
  auto after = client->set("after", bytes{"v"});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->written, 2u);
  stop = true;
  for (auto& r : readers)
    r.join();
  EXPECT_GT(answered.load(), 100);
  EXPECT_LT(slowest_us.load(), 1'000'000) << "a read waited for the dead server";
  auto stats = client->tiers();
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->at(1).reconnects, 1u);
}

} // namespace
