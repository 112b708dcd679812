// The memcached tier inside a cache: L1 memory → memcached → Redis, promotion with the
// remaining TTL, pattern removal around a tier that cannot match keys, values too large
// for memcached, the cache's config checks.
#include <chrono>
#include <memory>
#include <optional>
#include <string>
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
using mtcache::testing::eventually;

namespace {

class MemcachedChain : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override {
    ASSERT_TRUE(memcached.start()) << memcached.error();
    ASSERT_TRUE(redis.start()) << redis.error();
  }

  void TearDown() override {
    client.reset();
    if (cache)
      stop_cache(*cache);
  }

  memcached_tier_config memcached_cfg() {
    memcached_tier_config cfg;
    cfg.url = memcached.url();
    cfg.request_timeout = 300ms;
    cfg.backoff_max = 100ms;
    return cfg;
  }

  // L1 memory → L2 memcached → L3 Redis (ttl_scale 2), promotion on every hit.
  cache_config three_tiers() {
    cache_config cfg;
    cfg.add_memory_tier(tier_config::as_l1());
    cfg.add_memcached_tier(tier_config::as_l2().with_promotion_frequency(1), memcached_cfg());
    redis_tier_config r;
    r.url = redis.url();
    r.request_timeout = 300ms;
    cfg.add_redis_tier(tier_config::as_l3().with_promotion_frequency(1), r);
    cfg.options.seed = 7;
    return cfg;
  }

  void start(const cache_config& cfg) {
    auto spawned = spawn_cache(sys, cfg);
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    cache = *spawned;
    client = std::make_unique<blocking_cache>(sys, *cache, 5s);
    ASSERT_TRUE(eventually([&] {
      auto h = client->health();
      return h && h->status == health_status::healthy;
    }));
  }

  long memcached_ttl(const std::string& key) {
    auto reply = memcached.command("mg " + key + " t\r\n");
    return reply.rfind("HD t", 0) == 0 ? std::stol(reply.substr(4)) : -2;
  }

  mtcache::testing::memcached_server memcached;
  mtcache::testing::redis_server redis;
  std::optional<cache_actor> cache;
  std::unique_ptr<blocking_cache> client;
};

TEST_F(MemcachedChain, WritesReachEveryTierAndHealthCoversMemcached) {
  start(three_tiers());
  auto ack = client->set("k", bytes{"v"}, strategy::custom(60s));
  ASSERT_TRUE(ack) << sys.render(ack.error());
  EXPECT_EQ(ack->written, 3u);
  EXPECT_EQ(memcached.command("mg k v\r\n"), "VA 1\r\nv\r\n");
  EXPECT_NEAR(memcached_ttl("k"), 60, 1);
  EXPECT_EQ(redis.command({"GET", "k"}), "v");
  EXPECT_EQ(client->get("k")->level, 1u);
  auto health = client->health();
  ASSERT_TRUE(health);
  ASSERT_EQ(health->tiers.size(), 3u);
  EXPECT_EQ(health->tiers[1].kind, "memcached");
  EXPECT_TRUE(health->tiers[1].ok);
  auto stats = client->tiers();
  ASSERT_TRUE(stats);
  EXPECT_EQ((*stats)[1].kind, "memcached");
  EXPECT_EQ((*stats)[1].writes, 1u);
}

// A hit in memcached is promoted into L1 with what memcached says is left of its TTL.
TEST_F(MemcachedChain, PromotionFromMemcachedKeepsTheRemainingTtl) {
  start(three_tiers());
  ASSERT_EQ(memcached.command("ms warm 4 T40\r\nfrom\r\n"), "HD\r\n");
  auto first = client->get("warm");
  ASSERT_TRUE(first && first->found);
  EXPECT_EQ(first->level, 2u);
  EXPECT_NEAR(static_cast<double>(first->ttl_ms), 40000, 1500);
  auto second = client->get("warm");
  ASSERT_TRUE(second && second->found);
  EXPECT_EQ(second->level, 1u);
  EXPECT_NEAR(static_cast<double>(second->ttl_ms), 40000, 1500);
}

// A hit in Redis (L3) is promoted into memcached and L1 with its remaining TTL, in whole
// seconds for memcached; a key without expiry stays without.
TEST_F(MemcachedChain, PromotionFromRedisIntoMemcachedKeepsTheRemainingTtl) {
  start(three_tiers());
  ASSERT_EQ(redis.command({"SET", "deep", "r", "PX", "90000"}), "OK");
  auto first = client->get("deep");
  ASSERT_TRUE(first && first->found);
  EXPECT_EQ(first->level, 3u);
  EXPECT_TRUE(eventually([&] { return memcached_ttl("deep") > 0; }));
  EXPECT_NEAR(memcached_ttl("deep"), 90, 2);
  EXPECT_EQ(client->get("deep")->level, 1u);
  ASSERT_EQ(redis.command({"SET", "forever", "r"}), "OK");
  ASSERT_TRUE(client->get("forever"));
  EXPECT_TRUE(eventually([&] { return memcached_ttl("forever") == -1; }));
}

// memcached cannot match keys: the pattern still leaves L1 and Redis, the count says what
// they removed, and the memcached tier is reported (tier_errors), not held for repair.
TEST_F(MemcachedChain, PatternRemovalSkipsMemcachedAndReachesTheOthers) {
  start(three_tiers());
  for (auto key : {"user:1", "user:2", "order:1"})
    ASSERT_TRUE(client->set(key, bytes{"v"}));
  auto before = client->stats();
  auto removed = client->remove_matching("user:*");
  ASSERT_TRUE(removed) << sys.render(removed.error());
  EXPECT_EQ(*removed, 4u);
  EXPECT_EQ(redis.command({"EXISTS", "user:1"}), "0");
  EXPECT_EQ(redis.command({"EXISTS", "order:1"}), "1");
  EXPECT_EQ(memcached.command("mg user:1 v\r\n"), "VA 1\r\nv\r\n");
  auto after = client->stats();
  EXPECT_EQ(after->tier_errors, before->tier_errors + 1);
  EXPECT_EQ(after->repairs_pending, 0u);
  // With memcached alone, there is nobody to do it: the caller learns why.
  client.reset();
  stop_cache(*cache);
  cache.reset();
  cache_config alone;
  alone.add_memcached_tier(tier_config::at_level(2), memcached_cfg());
  start(alone);
  auto refused = client->remove_matching("user:*");
  ASSERT_FALSE(refused);
  EXPECT_TRUE(is(refused.error(), errc::not_supported)) << sys.render(refused.error());
}

// A value memcached cannot hold is written to the other tiers, reported as failed on
// memcached, which drops its old value; it is not held for repair.
TEST_F(MemcachedChain, ValuesTooLargeForMemcachedSkipItWithoutRepair) {
  start(three_tiers());
  ASSERT_TRUE(client->set("big", bytes{"old"}));
  auto ack = client->set("big", bytes{std::string(2 * 1024 * 1024, 'x')});
  ASSERT_TRUE(ack) << sys.render(ack.error());
  EXPECT_EQ(ack->written, 2u);
  ASSERT_EQ(ack->failed.size(), 1u);
  EXPECT_EQ(ack->failed[0].level, 2u);
  EXPECT_TRUE(is(ack->failed[0].reason, errc::value_too_large));
  EXPECT_EQ(memcached.command("mg big v\r\n"), "EN\r\n");
  EXPECT_EQ(client->stats()->repairs_pending, 0u);
  EXPECT_EQ(client->get("big")->value.size(), 2u * 1024 * 1024);
}

TEST_F(MemcachedChain, BadMemcachedConfigIsRejectedWithTheReason) {
  cache_config cfg;
  memcached_tier_config m;
  m.url = "memcache://h:99999";
  cfg.add_memcached_tier(tier_config::as_l2(), m);
  auto err = validate(cfg);
  EXPECT_TRUE(is(err, errc::invalid_url)) << sys.render(err);
  cfg.tiers[0].memcached.url = memcached.url();
  cfg.tiers[0].memcached.request_timeout = 0ms;
  EXPECT_TRUE(is(validate(cfg), errc::invalid_config));
  EXPECT_TRUE(cfg.tiers[0].placement.shared);
}

TEST_F(MemcachedChain, TagRemovalsKeepTheirTimeInMemcached) {
  cache_config cfg;
  cfg.add_memory_tier(tier_config::as_l1());
  cfg.add_memcached_tier(tier_config::as_l2().with_promotion_frequency(1), memcached_cfg());
  start(cfg);
  ASSERT_TRUE(client->set("k", bytes{"v"}, strategy::long_term(), {"t"}));
  ASSERT_TRUE(client->set("u", bytes{"w"}, strategy::long_term(), {"other"}));
  auto ack = client->remove_by_tag("t");
  ASSERT_TRUE(ack) << sys.render(ack.error());
  EXPECT_EQ(ack->written, 2u) << "L1 by the clock, memcached with the tag's time";
  EXPECT_FALSE(client->get("k")->found);
  // A cache started afterwards knows the removal only from memcached.
  client.reset();
  stop_cache(*cache);
  cache.reset();
  start(cfg);
  EXPECT_FALSE(client->get("k")->found);
  auto u = client->get("u");
  ASSERT_TRUE(u && u->found);
  EXPECT_EQ(u->value.view(), "w");
  EXPECT_EQ(u->tags, std::vector<std::string>{"other"});
}

} // namespace
