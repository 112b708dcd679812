// Batching in the coordinator (actors/coordinator.cpp, actors/coordinator_writes.cpp) on a
// real, multi-threaded system against a redis-server.
#include <set>
#include <string>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include "runtime/message_types.hpp"
#include "runtime/spawn_cache.hpp"
#include "tests/support/actor_system_fixture.hpp"
#include "tests/support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;

namespace {

// The same on a real, multi-threaded system against a redis-server: a Redis first tier
// (L1 disabled), requests sent without waiting, so batches form as they do under load.
class BatchesOnRedis : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override {
    ASSERT_TRUE(redis.start()) << redis.error();
    cache_config cfg;
    redis_tier_config r;
    r.url = redis.url();
    // Generous: this is about order and answers, and a sanitizer build runs 10-20x slower
    // through 9 000 requests sent at once.
    r.request_timeout = 5s;
    cfg.options.tier_timeout = 10s;
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

  void TearDown() override { stop_cache(cache); }

  mtcache::testing::redis_server redis;
  caf::scoped_actor self{sys};
  cache_actor cache;
};

TEST_F(BatchesOnRedis, EveryRequestIsAnsweredAndEachGetSeesTheSetSentBeforeIt) {
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

} // namespace
