// The Redis tier and the invalidation bus on a Sentinel set of real servers (one primary,
// one replica, three sentinels): the primary is found through the sentinels, a replica is
// never written to, and after a failover (SIGSTOP of the primary) writes go to the new
// primary without losing an acknowledged one, while the bridge runs its recovery policy.

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include <hiredis/hiredis.h>

#include "mtcache/actors/redis_tier.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/redis/sentinel.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_sentinel_set.hpp"
#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;
using mtcache::testing::redis_sentinel_set;

namespace {

redis_tier_config quick(const std::string& url) {
  redis_tier_config cfg;
  cfg.url = url;
  cfg.request_timeout = 300ms;
  cfg.connect_timeout = 500ms;
  cfg.backoff_initial = 20ms;
  cfg.backoff_max = 200ms;
  return cfg;
}

class RedisSentinel : public mtcache::testing::actor_system_fixture {
protected:
  void TearDown() override {
    for (auto& tier : tiers)
      caf::anon_send_exit(tier, caf::exit_reason::user_shutdown);
  }

  batch_tier_actor start(const redis_tier_config& cfg) {
    auto spawned = spawn_redis_tier(sys, cfg, 2);
    EXPECT_TRUE(spawned) << sys.render(spawned.error());
    tiers.push_back(*spawned);
    return *spawned;
  }

  template <class R, class... Ts>
  caf::expected<R> ask(const batch_tier_actor& tier, Ts... xs) {
    caf::expected<R> out{caf::error{}};
    self->request(tier, 2s, xs...)
        .receive([&](R& x) { out = std::move(x); }, [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  caf::expected<ok_atom> put(const batch_tier_actor& tier, const std::string& key,
                             const std::string& value) {
    return ask<ok_atom>(tier, put_atom::value, key, bytes{value}, caf::timespan{0});
  }

  tier_stats stats(const batch_tier_actor& tier) {
    auto res = ask<tier_stats>(tier, stats_atom::value);
    return res ? *res : tier_stats{};
  }

  caf::scoped_actor self{sys};
  std::vector<batch_tier_actor> tiers;
};

// One set for the tests that leave its primary where it is.
class RedisSentinelSteady : public RedisSentinel {
protected:
  static void SetUpTestSuite() {
    set = std::make_unique<redis_sentinel_set>();
    if (!set->start())
      reason = set->error();
  }

  static void TearDownTestSuite() { set.reset(); }

  void SetUp() override { ASSERT_TRUE(reason.empty()) << reason; }

  static inline std::unique_ptr<redis_sentinel_set> set;
  static inline std::string reason;
};

TEST_F(RedisSentinelSteady, TierWritesToThePrimaryTheSentinelsName) {
  auto tier = start(quick(set->url()));
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put(tier, "k", "v")); }));
  EXPECT_EQ(set->node(0).command({"GET", "k"}), "v");
  auto res = ask<lookup>(tier, get_atom::value, std::string{"k"});
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_EQ(res->value.view(), "v");
  auto primary = "127.0.0.1:" + std::to_string(set->node(0).port());
  auto s = stats(tier);
  EXPECT_EQ(s.primary, primary);
  EXPECT_EQ(s.topology.failovers, 0u);
  auto health = ask<tier_health>(tier, health_atom::value);
  ASSERT_TRUE(health);
  EXPECT_EQ(health->detail, "PONG from primary " + primary + " (0 failovers)");
}

TEST_F(RedisSentinelSteady, ConfigFieldsNameTheSameSet) {
  auto cfg = quick("");
  for (size_t i = 0; i < redis_sentinel_set::sentinel_count; ++i)
    cfg.sentinel.sentinels.push_back("127.0.0.1:" + std::to_string(set->sentinel_port(i)));
  cfg.sentinel.master = redis_sentinel_set::master_name;
  cfg.sentinel.db = 3;
  auto tier = start(cfg);
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put(tier, "fields", "yes")); }));
  EXPECT_EQ(set->node(0).command({"GET", "fields"}, 3), "yes");
}

TEST_F(RedisSentinelSteady, UnknownMasterNameFailsWithAClearError) {
  auto tier = start(quick(set->url(0, "nosuchmaster")));
  std::string text;
  ASSERT_TRUE(eventually([&] {
    auto res = put(tier, "k", "v");
    text = res ? "" : sys.render(res.error());
    return text.find("no sentinel knows the master 'nosuchmaster'") != std::string::npos;
  })) << text;
}

TEST_F(RedisSentinelSteady, ReplicaReportsItsRoleAndIsRefused) {
  timeval tv{1, 0};
  std::unique_ptr<redisContext, void (*)(redisContext*)> c{
      redisConnectWithTimeout("127.0.0.1", set->node(1).port(), tv), redisFree};
  ASSERT_TRUE(c && !c->err);
  auto err = detail::check_primary(c.get(), "the replica");
  ASSERT_TRUE(err);
  EXPECT_NE(sys.render(err).find("the replica reports itself slave, not master"), std::string::npos)
      << sys.render(err);
  c.reset(redisConnectWithTimeout("127.0.0.1", set->node(0).port(), tv));
  EXPECT_FALSE(detail::check_primary(c.get(), "the primary"));
}

// A demoted primary answers writes with READONLY: the write fails and the connection goes,
// so that a Sentinel tier asks again where the primary is.
TEST_F(RedisSentinelSteady, ReadonlyReplyFailsTheWriteAndDropsTheConnection) {
  auto tier = start(quick(set->node(1).url()));
  ASSERT_TRUE(eventually([&] { return stats(tier).connected; }));
  auto res = put(tier, "k", "on a replica");
  ASSERT_FALSE(res);
  EXPECT_NE(sys.render(res.error()).find("READONLY"), std::string::npos);
  EXPECT_TRUE(eventually([&] { return stats(tier).reconnects >= 1; }));
}

// A versioned writer against a failover: every acknowledged version is the newest any
// later read sees (a failed write may still have been applied, since a timeout is no
// rollback, so a read may show a newer version whose write failed, never an older one).
TEST_F(RedisSentinel, FailoverMovesWritesToTheNewPrimaryWithoutLosingAcknowledgedOnes) {
  redis_sentinel_set set;
  ASSERT_TRUE(set.start()) << set.error();
  auto tier = start(quick(set.url()));
  uint64_t version = 0;
  uint64_t acked = 0;
  uint64_t stale_reads = 0;
  // Writes the next version and reads it back; returns whether the write was acknowledged.
  auto step = [&] {
    auto v = ++version;
    if (put(tier, "ver", std::to_string(v)))
      acked = v;
    auto res = ask<lookup>(tier, get_atom::value, std::string{"ver"});
    if (res && res->found && std::stoull(res->value.str()) < acked)
      ++stale_reads;
    return acked == v;
  };
  ASSERT_TRUE(eventually(step));
  for (int i = 0; i < 50; ++i)
    step();
  // Paused between two writes: everything acknowledged reached the replica.
  set.node(0).pause();
  ASSERT_TRUE(eventually([&] { return step() && set.primary_by(0) == 1; }, 20s))
      << "no write went through after the failover";
  EXPECT_EQ(set.node(1).command({"GET", "ver"}), std::to_string(acked));
  for (int i = 0; i < 50; ++i)
    step();
  // The old primary comes back as a replica of the new one; writes keep going.
  ASSERT_TRUE(set.rejoin(0));
  ASSERT_TRUE(set.wait_settled(20s));
  for (int i = 0; i < 50; ++i)
    EXPECT_TRUE(step());
  EXPECT_EQ(set.node(1).command({"GET", "ver"}), std::to_string(acked));
  EXPECT_TRUE(eventually([&] {
    return set.node(0).command({"GET", "ver"}) == std::to_string(acked);
  }));
  EXPECT_EQ(stale_reads, 0u);
  auto s = stats(tier);
  EXPECT_EQ(s.topology.failovers, 1u);
  EXPECT_EQ(s.primary, "127.0.0.1:" + std::to_string(set.node(1).port()));
}

TEST(RedisSentinelBridge, SwitchRunsTheRecoveryPolicy) {
  redis_sentinel_set set;
  ASSERT_TRUE(set.start()) << set.error();
  cache_config cfg;
  cfg.node_id = "a";
  cfg.add_memory_tier(tier_config::as_l1());
  cfg.add_redis_tier(tier_config::as_l2().with_promotion_frequency(1), quick(set.url()));
  cfg.invalidation.redis = true;
  cfg.invalidation.audit = true;
  cfg.invalidation.keepalive = 100ms;
  cfg.invalidation.backoff_max = 200ms;
  mtcache::testing::node a{cfg};
  ASSERT_TRUE(a.ok()) << a.error();
  ASSERT_TRUE(eventually([&] { return a.bridge().redis_subscribed; }));
  auto before = a.bridge().recoveries_redis;
  set.node(0).pause();
  ASSERT_TRUE(set.wait_primary(1, 20s));
  EXPECT_TRUE(eventually(
      [&] {
        auto b = a.bridge();
        return b.redis_subscribed && b.recoveries_redis > before;
      },
      10s));
  EXPECT_TRUE(eventually([&] {
    a.client().set("after", bytes{"switch"});
    return set.node(1).command({"GET", "after"}) == "switch";
  }));
}

} // namespace
