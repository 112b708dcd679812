#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include <caf/typed_event_based_actor.hpp>

#include "mtcache/actors/detail/coordinator.hpp"
#include "mtcache/actors/memory_tier.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace mtcache::detail;
using namespace std::chrono_literals;
using mtcache::testing::eventually;

namespace {

int64_t pttl(mtcache::testing::redis_server& server, const std::string& key, int db = 0) {
  return std::stoll(server.command({"PTTL", key}, db));
}

class Coordinator : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override { ASSERT_TRUE(redis.start()) << redis.error(); }

  void TearDown() override {
    client.reset();
    if (cache)
      stop_cache(*cache);
  }

  // L1 memory + L2 Redis (db 0) with promotion on every hit unless told otherwise.
  cache_config two_tiers(uint32_t promotion_frequency = 1) {
    cache_config cfg;
    cfg.add_memory_tier(tier_config::as_l1());
    redis_tier_config redis_cfg;
    redis_cfg.url = redis.url();
    redis_cfg.request_timeout = 300ms;
    redis_cfg.backoff_max = 200ms;
    cfg.add_redis_tier(tier_config::as_l2().with_promotion_frequency(promotion_frequency),
                       redis_cfg);
    cfg.options.seed = 42;
    cfg.options.tier_timeout = 1s;
    return cfg;
  }

  void start(const cache_config& cfg) {
    auto spawned = spawn_cache(sys, cfg);
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    cache = *spawned;
    client = std::make_unique<blocking_cache>(sys, *cache, 5s);
  }

  // Waits until the Redis tier is connected, so a test does not race the first connect.
  void await_l2() {
    ASSERT_TRUE(eventually([&] {
      auto h = client->health();
      return h && h->status == health_status::healthy;
    }));
  }

  mtcache::testing::redis_server redis;
  std::optional<cache_actor> cache;
  std::unique_ptr<blocking_cache> client;
};

TEST_F(Coordinator, SetGetRoundTripsEveryStrategy) {
  start(two_tiers());
  await_l2();
  const std::pair<std::string, strategy> cases[] = {
      {"rt", strategy::real_time()},   {"st", strategy::short_term()},
      {"mt", strategy::medium_term()}, {"lt", strategy::long_term()},
      {"cu", strategy::custom(42s)},   {"df", strategy{}},
  };
  for (auto& [key, s] : cases) {
    auto ack = client->set(key, bytes{"value-" + key}, s);
    ASSERT_TRUE(ack) << sys.render(ack.error());
    EXPECT_EQ(ack->written, 2u) << key;
    auto res = client->get(key);
    ASSERT_TRUE(res) << sys.render(res.error());
    EXPECT_TRUE(res->found) << key;
    EXPECT_EQ(res->value.view(), "value-" + key);
    EXPECT_EQ(res->level, 1u);
    auto expected_ms = std::chrono::duration_cast<std::chrono::milliseconds>(s.ttl()).count();
    EXPECT_LE(res->ttl_ms, expected_ms) << key;
    EXPECT_GT(res->ttl_ms, expected_ms - 2000) << key;
    auto l2 = pttl(redis, key);
    EXPECT_LE(l2, expected_ms) << key;
    EXPECT_GT(l2, expected_ms - 2000) << key;
  }
  EXPECT_EQ(strategy{}.ttl(), strategy::short_term().ttl());
}

TEST_F(Coordinator, MissAnswersNotFound) {
  start(two_tiers());
  await_l2();
  auto res = client->get("absent");
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_FALSE(res->found);
  auto stats = client->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->requests, 1u);
  EXPECT_EQ(stats->misses, 1u);
}

TEST_F(Coordinator, CustomTtlExpiresInBothTiers) {
  start(two_tiers());
  await_l2();
  auto begin = std::chrono::steady_clock::now();
  ASSERT_TRUE(client->set("short", bytes{"v"}, strategy::custom(100ms)));
  auto res = client->get("short");
  ASSERT_TRUE(res && res->found);
  EXPECT_LE(res->ttl_ms, 100);
  ASSERT_TRUE(eventually(
      [&] {
        auto r = client->get("short");
        return r && !r->found;
      },
      2s));
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 100ms);
  EXPECT_EQ(pttl(redis, "short"), -2);
}

TEST_F(Coordinator, PromotesFromL2WithRemainingTtlInMilliseconds) {
  start(two_tiers(1));
  await_l2();
  ASSERT_EQ(redis.command({"SET", "warm", "from-redis", "PX", "60000"}), "OK");
  auto first = client->get("warm");
  ASSERT_TRUE(first && first->found);
  EXPECT_EQ(first->level, 2u);
  EXPECT_EQ(first->value.view(), "from-redis");
  EXPECT_GT(first->ttl_ms, 59000);
  auto second = client->get("warm");
  ASSERT_TRUE(second && second->found);
  EXPECT_EQ(second->level, 1u);
  EXPECT_LE(second->ttl_ms, first->ttl_ms);
  EXPECT_GT(second->ttl_ms, 58000);
  // A persistent Redis key stays persistent when promoted (not a made-up 300 s).
  ASSERT_EQ(redis.command({"SET", "forever", "x"}), "OK");
  ASSERT_TRUE(client->get("forever"));
  auto promoted = client->get("forever");
  ASSERT_TRUE(promoted && promoted->found);
  EXPECT_EQ(promoted->level, 1u);
  EXPECT_EQ(promoted->ttl_ms, -1);
  auto stats = client->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->promotions, 2u);
}

TEST_F(Coordinator, PromotionFrequencyOneAlwaysLargeRarely) {
  auto count_promoted = [&](uint32_t n) {
    start(two_tiers(n));
    await_l2();
    for (int i = 0; i < 40; ++i)
      redis.command({"SET", "k" + std::to_string(n) + "-" + std::to_string(i), "v"});
    for (int i = 0; i < 40; ++i)
      EXPECT_TRUE(client->get("k" + std::to_string(n) + "-" + std::to_string(i)));
    auto stats = client->stats();
    EXPECT_TRUE(stats);
    client.reset();
    stop_cache(*cache);
    return stats ? stats->promotions : 0;
  };
  EXPECT_EQ(count_promoted(1), 40u);
  // Seeded draws: with N = 1000 at most a couple of 40 hits promote.
  EXPECT_LE(count_promoted(1000), 2u);
}

TEST_F(Coordinator, TtlScaleAppliesPerTierOnSetAndPromotion) {
  cache_config cfg;
  cfg.add_memory_tier(tier_config::as_l1());
  redis_tier_config l2, l3, l4;
  l2.url = redis.url(0);
  l3.url = redis.url(1);
  l4.url = redis.url(2);
  cfg.add_redis_tier(tier_config::as_l2().with_promotion_frequency(1), l2);
  cfg.add_redis_tier(tier_config::as_l3().with_promotion_frequency(1), l3);
  cfg.add_redis_tier(tier_config::as_l4().with_promotion_frequency(1), l4);
  start(cfg);
  await_l2();
  ASSERT_TRUE(client->set("scaled", bytes{"v"}, strategy::custom(10s)));
  EXPECT_NEAR(pttl(redis, "scaled", 0), 10000, 1500);
  EXPECT_NEAR(pttl(redis, "scaled", 1), 20000, 1500);
  EXPECT_NEAR(pttl(redis, "scaled", 2), 80000, 1500);
  // Only in L4: a hit there promotes into L3 (x2), L2 (x1) and L1 (x1) from its remaining TTL.
  ASSERT_EQ(redis.command({"SET", "deep", "v4", "PX", "10000"}, 2), "OK");
  auto res = client->get("deep");
  ASSERT_TRUE(res && res->found);
  EXPECT_EQ(res->level, 4u);
  EXPECT_NEAR(pttl(redis, "deep", 1), 20000, 1500);
  EXPECT_NEAR(pttl(redis, "deep", 0), 10000, 1500);
  auto l1 = client->get("deep");
  ASSERT_TRUE(l1 && l1->found);
  EXPECT_EQ(l1->level, 1u);
  EXPECT_NEAR(static_cast<double>(l1->ttl_ms), 10000, 1500);
}

TEST_F(Coordinator, PatternRemovalReachesL1AndL2) {
  start(two_tiers());
  await_l2();
  for (auto key : {"user:1", "user:2", "order:1"})
    ASSERT_TRUE(client->set(key, bytes{"v"}));
  auto removed = client->remove_matching("user:*");
  ASSERT_TRUE(removed) << sys.render(removed.error());
  EXPECT_EQ(*removed, 4u);
  EXPECT_FALSE(client->get("user:1")->found);
  EXPECT_FALSE(client->get("user:2")->found);
  EXPECT_TRUE(client->get("order:1")->found);
  EXPECT_EQ(redis.command({"EXISTS", "user:1"}), "0");
  EXPECT_EQ(redis.command({"EXISTS", "order:1"}), "1");
  auto everything = client->remove_matching("*");
  ASSERT_FALSE(everything);
  EXPECT_TRUE(is(everything.error(), errc::invalid_pattern));
}

TEST_F(Coordinator, StatsAreExact) {
  start(two_tiers(1));
  await_l2();
  ASSERT_TRUE(client->set("a", bytes{"1"}));
  redis.command({"SET", "b", "2"});
  EXPECT_TRUE(client->get("a")->found);  // L1 hit
  EXPECT_TRUE(client->get("a")->found);  // L1 hit
  EXPECT_TRUE(client->get("b")->found);  // L2 hit, promoted
  EXPECT_TRUE(client->get("b")->found);  // L1 hit
  EXPECT_FALSE(client->get("c")->found); // miss
  EXPECT_FALSE(client->get(""));         // rejected
  auto stats = client->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->requests, 5u);
  ASSERT_EQ(stats->tier_hits.size(), 2u);
  EXPECT_EQ(stats->tier_hits[0], 3u);
  EXPECT_EQ(stats->tier_hits[1], 1u);
  EXPECT_EQ(stats->misses, 1u);
  EXPECT_EQ(stats->promotions, 1u);
  EXPECT_EQ(stats->sets, 1u);
  EXPECT_EQ(stats->rejected, 1u);
  EXPECT_EQ(stats->in_flight, 0u);
  auto tiers = client->tiers();
  ASSERT_TRUE(tiers);
  ASSERT_EQ(tiers->size(), 2u);
  EXPECT_EQ((*tiers)[0].kind, "memory");
  EXPECT_EQ((*tiers)[0].hits, 3u);
  EXPECT_EQ((*tiers)[1].kind, "redis");
  EXPECT_EQ((*tiers)[1].level, 2u);
  EXPECT_TRUE((*tiers)[1].connected);
}

TEST_F(Coordinator, RedisKilledL1KeepsServingAndL2FailsWithinTimeout) {
  start(two_tiers());
  await_l2();
  ASSERT_TRUE(client->set("resident", bytes{"v"}));
  redis.kill();
  for (int i = 0; i < 20; ++i) {
    auto res = client->get("resident");
    ASSERT_TRUE(res && res->found);
    EXPECT_EQ(res->level, 1u);
  }
  auto begin = std::chrono::steady_clock::now();
  auto miss = client->get("not-resident");
  ASSERT_TRUE(miss) << sys.render(miss.error());
  EXPECT_FALSE(miss->found);
  auto ack = client->set("new", bytes{"v"});
  ASSERT_TRUE(ack) << sys.render(ack.error());
  EXPECT_EQ(ack->written, 1u);
  ASSERT_EQ(ack->failed.size(), 1u);
  EXPECT_EQ(ack->failed[0].level, 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
  auto stats = client->stats();
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->tier_errors, 2u);
  auto health = client->health();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, health_status::degraded);
  ASSERT_TRUE(redis.restart()) << redis.error();
  EXPECT_TRUE(eventually([&] {
    auto a = client->set("after", bytes{"v"});
    return a && a->written == 2;
  }));
}

// A tier of the user's that never answers: writes give up on it after tier_timeout.
tier_actor::behavior_type silent_tier(tier_actor::pointer self) {
  return {
      [=](get_atom, const std::string&) { return self->make_response_promise<lookup>(); },
      [=](get_atom, const std::string&, miss_route&, caf::message&) {
        return self->make_response_promise<lookup>();
      },
      [=](get_atom, stale_atom, const std::string&) {
        return self->make_response_promise<lookup>();
      },
      [=](put_atom, const std::string&, bytes&, caf::timespan) {
        return self->make_response_promise<ok_atom>();
      },
      [=](delete_atom, const std::string&) { return self->make_response_promise<uint64_t>(); },
      [=](delete_atom, std::vector<std::string>&) {
        return self->make_response_promise<uint64_t>();
      },
      [=](delete_atom, match_atom, const std::string&) {
        return self->make_response_promise<uint64_t>();
      },
      [=](clear_atom) { return self->make_response_promise<uint64_t>(); },
      [=](exists_atom, const std::string&) { return self->make_response_promise<bool>(); },
      [=](stats_atom) { return self->make_response_promise<tier_stats>(); },
      [=](health_atom) { return self->make_response_promise<tier_health>(); },
  };
}

TEST_F(Coordinator, SilentCustomTierFailsWritesAfterTierTimeout) {
  auto silent = sys.spawn(silent_tier);
  cache_config cfg;
  cfg.add_memory_tier(tier_config::as_l1());
  cfg.add_tier(tier_config::as_l2(), silent);
  cfg.options.tier_timeout = 200ms;
  start(cfg);
  auto ack = client->set("k", bytes{"v"});
  ASSERT_TRUE(ack) << sys.render(ack.error());
  EXPECT_EQ(ack->written, 1u);
  ASSERT_EQ(ack->failed.size(), 1u);
  EXPECT_EQ(ack->failed[0].level, 2u);
  caf::anon_send_exit(silent, caf::exit_reason::user_shutdown);
}

// A tier that answers in time by itself is asked without a CAF timer; the coordinator's own
// deadline sweep still fails a write it leaves unanswered.
TEST_F(Coordinator, DeadlineSweepFailsWritesToAnInTimeTierThatStopsAnswering) {
  auto silent = sys.spawn(silent_tier);
  auto l1 = spawn_memory_tier(sys, memory_tier_config{}, 1);
  tier_chain chain;
  chain.push_back({l1, tier_config::as_l1(), true, {}, false, nullptr});
  chain.push_back({silent, tier_config::as_l2(), true, {}, false, nullptr});
  cache_options opts;
  opts.tier_timeout = 200ms;
  cache = spawn_coordinator(sys, std::move(chain), opts,
                            {caf::actor_cast<caf::actor>(l1), caf::actor_cast<caf::actor>(silent)});
  client = std::make_unique<blocking_cache>(sys, *cache, 5s);
  auto begin = std::chrono::steady_clock::now();
  auto ack = client->set("k", bytes{"v"});
  ASSERT_TRUE(ack) << sys.render(ack.error());
  EXPECT_EQ(ack->written, 1u);
  ASSERT_EQ(ack->failed.size(), 1u);
  EXPECT_TRUE(is(ack->failed[0].reason, errc::timeout)) << sys.render(ack->failed[0].reason);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
  auto removed = client->remove("k");
  ASSERT_TRUE(removed) << sys.render(removed.error());
  EXPECT_EQ(removed->failed.size(), 1u);
}

// Built-in tiers are asked without a CAF timer: a hung Redis still fails a write, at the
// redis tier's own request_timeout.
TEST_F(Coordinator, HungRedisFailsWritesAtItsOwnDeadline) {
  start(two_tiers());
  await_l2();
  redis.pause();
  auto begin = std::chrono::steady_clock::now();
  auto ack = client->set("k", bytes{"v"});
  auto took = std::chrono::steady_clock::now() - begin;
  redis.resume();
  ASSERT_TRUE(ack) << sys.render(ack.error());
  EXPECT_EQ(ack->written, 1u);
  ASSERT_EQ(ack->failed.size(), 1u);
  EXPECT_TRUE(is(ack->failed[0].reason, errc::timeout)) << sys.render(ack->failed[0].reason);
  EXPECT_LT(took, 1s);
}

TEST_F(Coordinator, RejectsBadInputWithTypedErrors) {
  auto cfg = two_tiers();
  cfg.options.max_value_bytes = 1024;
  cfg.options.max_key_bytes = 16;
  start(cfg);
  auto empty = client->get("");
  ASSERT_FALSE(empty);
  EXPECT_TRUE(is(empty.error(), errc::invalid_key));
  auto long_key = client->set(std::string(17, 'k'), bytes{"v"});
  ASSERT_FALSE(long_key);
  EXPECT_TRUE(is(long_key.error(), errc::invalid_key));
  auto big = client->set("big", bytes{std::string(1025, 'x')});
  ASSERT_FALSE(big);
  EXPECT_TRUE(is(big.error(), errc::value_too_large));
}

TEST_F(Coordinator, BadConfigIsRejectedWithTheReason) {
  auto bad_url = two_tiers();
  bad_url.tiers[1].redis.url = "redis://127.0.0.1:99999";
  auto res = spawn_cache(sys, bad_url);
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::invalid_url));
  auto descending = two_tiers();
  descending.tiers[1].placement.level = 1;
  res = spawn_cache(sys, descending);
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::invalid_config));
  res = spawn_cache(sys, cache_config{});
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::invalid_config));
}

TEST_F(Coordinator, EmbeddedConfigWorksWithoutRedis) {
  redis.kill();
  start(cache_config::embedded());
  ASSERT_TRUE(client->set("k", bytes{"v"}));
  auto res = client->get("k");
  ASSERT_TRUE(res && res->found);
  EXPECT_EQ(res->value.view(), "v");
  auto health = client->health();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, health_status::healthy);
}

} // namespace
