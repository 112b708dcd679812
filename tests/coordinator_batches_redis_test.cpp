// Batching in the coordinator (actors/coordinator.cpp, actors/coordinator_writes.cpp) on a
// real, multi-threaded system against a redis-server.
#include <chrono>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;

namespace {

// The same on a real, multi-threaded system against a redis-server: a Redis first tier
// (L1 disabled), requests sent without waiting, so batches form as they do under load.
class BatchesOnRedis : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override { ASSERT_TRUE(redis.start()) << redis.error(); }

  // Generous timeouts by default: a sanitizer build runs 10-20x slower through 9 000
  // requests sent at once.
  void start(std::chrono::milliseconds request_timeout = 5s,
             std::chrono::milliseconds tier_timeout = 10s) {
    cache_config cfg;
    redis_tier_config r;
    r.url = redis.url();
    r.request_timeout = request_timeout;
    cfg.options.tier_timeout = tier_timeout;
    cfg.add_redis_tier(tier_config::at_level(2), r);
    auto spawned = spawn_cache(sys, cfg);
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    cache = *spawned;
    ASSERT_TRUE(mtcache::testing::eventually([&] {
      bool ok = false;
      self->request(cache, 5s, put_atom::value, std::string{"warm"}, bytes{"v"},
                    strategy::long_term())
          .receive([&](write_ack&) { ok = true; }, [](caf::error&) {});
      return ok;
    }));
  }

  void TearDown() override {
    redis.resume();
    if (cache)
      stop_cache(cache);
  }

  mtcache::testing::redis_server redis;
  caf::scoped_actor self{sys};
  cache_actor cache;
};

TEST_F(BatchesOnRedis, EveryRequestIsAnsweredAndEachGetSeesTheSetSentBeforeIt) {
  start();
  constexpr int n = 3000;
  for (int i = 0; i < n; ++i) {
    auto key = "k" + std::to_string(i);
    self->send(cache, put_atom::value, key, bytes{"old"}, strategy::long_term());
    self->send(cache, put_atom::value, key, bytes{"v" + std::to_string(i)}, strategy::long_term());
    self->send(cache, get_atom::value, key);
  }
  int acks = 0;
  std::multiset<std::string> seen;
  for (int i = 0; i < 3 * n; ++i)
    self->receive([&](write_ack& ack) { acks += ack.written == 1 ? 1 : 0; },
                  [&](lookup& res) { seen.insert(res.found ? res.value.str() : "miss"); },
                  [&](caf::error& err) { ADD_FAILURE() << sys.render(err); },
                  caf::after(10s) >> [&] { ADD_FAILURE() << "no answer"; });
  EXPECT_EQ(acks, 2 * n);
  std::multiset<std::string> expected;
  for (int i = 0; i < n; ++i)
    expected.insert("v" + std::to_string(i));
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(redis.command({"GET", "k2999"}), "v2999");
  cache_stats stats;
  self->request(cache, 5s, stats_atom::value)
      .receive([&](cache_stats& s) { stats = s; }, [](caf::error&) {});
  EXPECT_EQ(stats.sets, 2u * n + 1);
  EXPECT_EQ(stats.tier_hits.at(0), static_cast<uint64_t>(n));
  EXPECT_EQ(stats.tier_errors, 0u);
}

// Requests that gather while the batch limit is out wait for a batch to come back. A frozen
// Redis sends none back before its request_timeout; the gathered requests must still fail at
// about one request_timeout, not be held for the first and then wait out a second.
TEST_F(BatchesOnRedis, FrozenRedisFailsGatheredRequestsWithinOneTimeout) {
  // Held for a second timeout, the last answer would come after about 4 s.
  start(2s, 10s);
  redis.pause();
  constexpr int waves = 12;
  constexpr int per_wave = 50;
  auto first_sent = std::chrono::steady_clock::now();
  for (int w = 0; w < waves; ++w) {
    for (int i = 0; i < per_wave; ++i)
      self->send(cache, get_atom::value, std::string{"warm"});
    std::this_thread::sleep_for(5ms);
  }
  int misses = 0;
  for (int i = 0; i < waves * per_wave; ++i)
    self->receive([&](lookup& res) { misses += res.found ? 0 : 1; },
                  [&](caf::error& err) { ADD_FAILURE() << sys.render(err); },
                  caf::after(10s) >> [&] { ADD_FAILURE() << "no answer"; });
  auto last_answer = std::chrono::steady_clock::now() - first_sent;
  EXPECT_EQ(misses, waves * per_wave);
  EXPECT_LT(last_answer, 3s);
  redis.resume();
  cache_stats stats;
  self->request(cache, 5s, stats_atom::value)
      .receive([&](cache_stats& s) { stats = s; }, [](caf::error&) {});
  EXPECT_EQ(stats.tier_errors, static_cast<uint64_t>(waves * per_wave));
}

} // namespace
