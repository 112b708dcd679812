// The Redis connections of a process come back together (redis/reachability.hpp): one that
// gets through after an outage makes the others try at once instead of waiting out their
// backoff. Real redis-server, a Redis tier with a long backoff, a streams actor with a
// short one.
#include <chrono>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include "mtcache/actors/detail/redis_streams.hpp"
#include "mtcache/actors/redis_tier.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using mtcache::testing::eventually;

namespace {

class Reachability : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override { ASSERT_TRUE(redis.start()) << redis.error(); }

  void TearDown() override {
    caf::anon_send_exit(tier, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(streams, caf::exit_reason::user_shutdown);
  }

  bool tier_connected() {
    bool connected = false;
    self->request(tier, 5s, stats_atom::value)
        .receive([&](const tier_stats& s) { connected = s.connected; }, [](caf::error&) {});
    return connected;
  }

  mtcache::testing::redis_server redis;
  caf::scoped_actor self{sys};
  batch_tier_actor tier;
  detail::streams_actor streams;
};

TEST_F(Reachability, TheFirstConnectionBackWakesTheOthers) {
  redis_tier_config slow;
  slow.url = redis.url();
  slow.backoff_initial = 3s;
  slow.backoff_max = 3s;
  auto spawned_tier = spawn_redis_tier(sys, slow, 2);
  ASSERT_TRUE(spawned_tier);
  tier = *spawned_tier;
  redis_tier_config quick = slow;
  quick.backoff_initial = 20ms;
  quick.backoff_max = 50ms;
  auto spawned_streams = detail::spawn_redis_streams(sys, quick);
  ASSERT_TRUE(spawned_streams);
  streams = *spawned_streams;
  ASSERT_TRUE(eventually([&] { return tier_connected(); }));
  redis.kill();
  ASSERT_TRUE(eventually([&] { return !tier_connected(); }));
  ASSERT_TRUE(redis.restart()) << redis.error();
  auto back = clock_type::now();
  // Alone, the tier would retry 1.5 to 3 s after it lost Redis.
  ASSERT_TRUE(eventually([&] { return tier_connected(); }, 5s));
  EXPECT_LT(clock_type::now() - back, 1s);
}

} // namespace
