#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "mtcache/messages/error.hpp"
#include "support/redis_server.hpp"
#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;
using mtcache::testing::node;
using mtcache::testing::redis_node_config;

namespace {

// Two nodes (actor systems) sharing one Redis, invalidating each other over Pub/Sub.
class InvalidationBridge : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(redis.start()) << redis.error(); }

  void start(cache_config a_cfg, cache_config b_cfg) {
    a = std::make_unique<node>(a_cfg);
    ASSERT_TRUE(a->ok()) << a->error();
    b = std::make_unique<node>(b_cfg);
    ASSERT_TRUE(b->ok()) << b->error();
    ASSERT_TRUE(eventually([&] { return a->bridge().redis_subscribed; }));
    ASSERT_TRUE(eventually([&] { return b->bridge().redis_subscribed; }));
  }

  void start() { start(redis_node_config(redis, "node-a"), redis_node_config(redis, "node-b")); }

  // Sets `key` on A and makes B hold it in its L1.
  void share(const std::string& key, const std::string& value) {
    ASSERT_TRUE(a->client().set(key, bytes{value}));
    ASSERT_TRUE(b->client().get(key));
    ASSERT_EQ(b->in_l1(key), value);
  }

  uint64_t command_calls(const std::string& command) {
    auto info = redis.command({"INFO", "commandstats"});
    auto at = info.find("cmdstat_" + command + ":calls=");
    if (at == std::string::npos)
      return 0;
    return std::stoull(info.substr(at + command.size() + 15));
  }

  void publish(const std::string& payload, const std::string& channel = "cache:invalidate") {
    redis.command({"PUBLISH", channel, payload});
  }

  mtcache::testing::redis_server redis;
  std::unique_ptr<node> a;
  std::unique_ptr<node> b;
};

TEST_F(InvalidationBridge, InvalidateOnOneNodeDropsTheOthersCopy) {
  start();
  share("k", "v1");
  auto ack = a->client().call<write_ack>(invalidate_atom::value, std::string{"k"});
  ASSERT_TRUE(ack);
  EXPECT_TRUE(eventually([&] { return !b->in_l1("k"); }));
  EXPECT_FALSE(b->client().get("k")->found);
  EXPECT_EQ(redis.command({"EXISTS", "k"}), "0");
  EXPECT_EQ(a->bridge().messages_sent, 1u);
  EXPECT_TRUE(eventually([&] { return b->bridge().received_removes == 1; }));
}

TEST_F(InvalidationBridge, UpdatePushesTheValueIntoTheOthersL1) {
  start();
  share("k", "old");
  auto ack = a->client().call<write_ack>(update_atom::value, std::string{"k"}, bytes{"new"},
                                         caf::timespan{30s});
  ASSERT_TRUE(ack);
  EXPECT_TRUE(eventually([&] { return b->in_l1("k") == std::optional<std::string>{"new"}; }));
  auto res = b->client().get("k");
  EXPECT_NEAR(static_cast<double>(res->ttl_ms), 30000, 2000);
  // set_with_broadcast does the same with a strategy.
  ASSERT_TRUE(a->client().call<write_ack>(put_atom::value, std::string{"k"}, bytes{"newer"},
                                          strategy::real_time(), broadcast_atom::value));
  EXPECT_TRUE(eventually([&] { return b->in_l1("k") == std::optional<std::string>{"newer"}; }));
  EXPECT_LE(b->client().get("k")->ttl_ms, 10000);
}

TEST_F(InvalidationBridge, PatternAndBulkInvalidationReachTheOtherNode) {
  start();
  for (auto key : {"user:1", "user:2", "user:3", "order:1", "order:2"})
    share(key, "v");
  ASSERT_EQ(b->l1_size(), 5u);
  auto removed =
      a->client().call<uint64_t>(invalidate_atom::value, match_atom::value, std::string{"user:*"});
  ASSERT_TRUE(removed);
  EXPECT_TRUE(eventually([&] { return b->l1_size() == 2; }));
  EXPECT_TRUE(b->in_l1("order:1"));
  std::vector<std::string> keys{"order:1", "order:2"};
  ASSERT_TRUE(a->client().call<write_ack>(invalidate_atom::value, keys));
  EXPECT_TRUE(eventually([&] { return b->l1_size() == 0; }));
  EXPECT_EQ(redis.command({"DBSIZE"}), "0");
}

TEST_F(InvalidationBridge, TheOriginIgnoresItsOwnMessagesAndReceiversLeaveRedisAlone) {
  start();
  share("k", "v");
  auto sets_before = command_calls("set");
  ASSERT_TRUE(a->client().call<write_ack>(update_atom::value, std::string{"k"}, bytes{"v2"},
                                          caf::timespan{60s}));
  ASSERT_TRUE(eventually([&] { return b->in_l1("k") == std::optional<std::string>{"v2"}; }));
  EXPECT_TRUE(eventually([&] { return a->bridge().own_ignored == 1; }));
  EXPECT_EQ(command_calls("set"), sets_before + 1);
  auto unlinks_before = command_calls("unlink");
  ASSERT_TRUE(a->client().call<write_ack>(invalidate_atom::value, std::string{"k"}));
  ASSERT_TRUE(eventually([&] { return !b->in_l1("k"); }));
  EXPECT_EQ(command_calls("unlink"), unlinks_before + 1);
  EXPECT_EQ(a->bridge().received, 0u);
}

TEST_F(InvalidationBridge, MessagesOfTheRustCrateApply) {
  start();
  share("k1", "v");
  share("k2", "v");
  share("user:9", "v");
  share("bulk:1", "v");
  publish(R"({"type":"Remove","key":"k1"})");
  publish(R"({"type":"Update","key":"k2","value":[97,98],"ttl_secs":300})");
  publish(R"({"type":"RemovePattern","pattern":"user:*"})");
  publish(R"({"type":"RemoveBulk","keys":["bulk:1","nothing"]})");
  EXPECT_TRUE(eventually([&] { return !b->in_l1("k1"); }));
  EXPECT_TRUE(eventually([&] { return b->in_l1("k2") == std::optional<std::string>{"ab"}; }));
  EXPECT_TRUE(eventually([&] { return !b->in_l1("user:9") && !b->in_l1("bulk:1"); }));
  publish(R"({"type":"Update","key":"k3","value":"6869"})");
  EXPECT_TRUE(eventually([&] { return b->in_l1("k3") == std::optional<std::string>{"hi"}; }));
  auto stats = b->bridge();
  EXPECT_EQ(stats.received_removes, 1u);
  EXPECT_EQ(stats.received_updates, 2u);
  EXPECT_EQ(stats.received_patterns, 1u);
  EXPECT_EQ(stats.received_bulk, 1u);
}

TEST_F(InvalidationBridge, GarbageIsCountedAndDropped) {
  auto b_cfg = redis_node_config(redis, "node-b");
  b_cfg.invalidation.max_message_bytes = 4096;
  start(redis_node_config(redis, "node-a"), b_cfg);
  publish("not json at all");
  publish(R"({"type":"Explode","key":"k"})");
  publish(R"({"type":"Remove"})");
  publish(R"({"type":"Update","key":"k","value":[300]})");
  publish(R"({"type":"Remove","key":")" + std::string(5000, 'x') + R"("})");
  EXPECT_TRUE(eventually([&] { return b->bridge().processing_errors == 5; }));
  share("still", "works");
  publish(R"({"type":"Remove","key":"still"})");
  EXPECT_TRUE(eventually([&] { return !b->in_l1("still"); }));
}

TEST_F(InvalidationBridge, RedisRestartReconnectsAndRecoveryClearsL1) {
  start();
  share("k", "v");
  ASSERT_TRUE(b->in_l1("k"));
  redis.kill();
  ASSERT_TRUE(eventually([&] { return !b->bridge().redis_subscribed; }));
  EXPECT_TRUE(b->in_l1("k")) << "L1 keeps serving while Redis is away";
  ASSERT_TRUE(redis.restart()) << redis.error();
  EXPECT_TRUE(eventually([&] {
    auto s = b->bridge();
    return s.redis_subscribed && s.recoveries == 1 && s.recoveries_redis == 1 &&
           s.redis_reconnects == 1;
  }));
  EXPECT_TRUE(eventually([&] { return b->l1_size() == 0; }));
  EXPECT_GT(b->bridge().last_recovery_ms, 0);
  ASSERT_TRUE(eventually([&] { return a->bridge().redis_subscribed; }));
  ASSERT_TRUE(eventually([&] {
    auto ack = a->client().set("after", bytes{"v"});
    return ack && ack->written == 2;
  }));
  // B's Redis tier reconnects on its own schedule; wait until it serves the key.
  ASSERT_TRUE(eventually([&] {
    auto res = b->client().get("after");
    return res && res->found;
  }));
  ASSERT_TRUE(b->in_l1("after"));
  ASSERT_TRUE(a->client().call<write_ack>(invalidate_atom::value, std::string{"after"}));
  EXPECT_TRUE(eventually([&] { return !b->in_l1("after"); }));
}

// A change made while the publishing connection is down is held and published, in order,
// once Redis is back: the bridge must not drop it just because its connection was reconnecting.
TEST_F(InvalidationBridge, ChangesMadeWhileRedisIsDownArePublishedWhenItIsBack) {
  start();
  auto before = a->bridge();
  redis.kill();
  // The changes are made once A noticed Redis is gone.
  ASSERT_TRUE(eventually([&] { return !a->bridge().redis_subscribed; }));
  for (auto key : {"gone-1", "gone-2", "gone-1"})
    ASSERT_TRUE(a->client().call<write_ack>(invalidate_atom::value, std::string{key}));
  // Three changes, two keys: only the newest change per key is kept. How it got there
  // (`held_compacted`) depends on which changes were in flight when the publishing
  // connection died, so only what is held is asserted.
  EXPECT_TRUE(eventually([&] { return a->bridge().publish_held == 2; }));
  ASSERT_TRUE(redis.restart()) << redis.error();
  ASSERT_TRUE(eventually([&] { return b->bridge().redis_subscribed; }, 10s));
  // B sees the held changes as one compacted message that covers all three.
  EXPECT_TRUE(eventually(
      [&] {
        auto s = a->bridge();
        return s.publish_held == 0 && s.backlog_messages == before.backlog_messages + 1;
      },
      10s));
  EXPECT_TRUE(eventually([&] { return b->bridge().received_bulk == 1; }));
  EXPECT_EQ(a->bridge().publish_errors, 0u);
  EXPECT_EQ(b->bridge().missing, 0u);
}

// Changes made while B's subscription is down never reach B; recovery on resubscribe is what
// keeps B from serving its old copy until the TTL runs out.
TEST_F(InvalidationBridge, ChangesMissedWhileUnsubscribedCannotLeaveStaleValues) {
  for (auto policy : {recovery_policy::clear, recovery_policy::none}) {
    auto b_cfg = redis_node_config(redis, "node-b");
    b_cfg.invalidation.recovery = policy;
    b_cfg.invalidation.backoff_initial = 400ms;
    b_cfg.invalidation.backoff_max = 400ms;
    start(redis_node_config(redis, "node-a"), b_cfg);
    share("cfg", "v1");
    redis.command({"CLIENT", "KILL", "TYPE", "pubsub"});
    ASSERT_TRUE(eventually([&] { return !b->bridge().redis_subscribed; }));
    ASSERT_TRUE(a->client().call<write_ack>(update_atom::value, std::string{"cfg"}, bytes{"v2"},
                                            caf::timespan{1min}));
    ASSERT_TRUE(eventually([&] { return b->bridge().redis_subscribed; }));
    auto seen = b->client().get("cfg");
    ASSERT_TRUE(seen && seen->found);
    if (policy == recovery_policy::clear)
      EXPECT_EQ(seen->value.view(), "v2");
    else
      EXPECT_EQ(seen->value.view(), "v1") << "without recovery the missed update stays missed";
    a.reset();
    b.reset();
    redis.command({"FLUSHALL"});
  }
}

TEST_F(InvalidationBridge, HungRedisIsNoticedByTheKeepalive) {
  start();
  share("k", "v");
  redis.pause();
  EXPECT_TRUE(eventually([&] { return !b->bridge().redis_subscribed; }, 3s));
  redis.resume();
  EXPECT_TRUE(eventually([&] { return b->bridge().recoveries == 1; }));
  EXPECT_TRUE(eventually([&] { return b->l1_size() == 0; }));
}

TEST_F(InvalidationBridge, RecoveryPolicyNoneKeepsL1) {
  auto b_cfg = redis_node_config(redis, "node-b");
  b_cfg.invalidation.recovery = recovery_policy::none;
  start(redis_node_config(redis, "node-a"), b_cfg);
  share("k", "v");
  redis.kill();
  ASSERT_TRUE(redis.restart());
  ASSERT_TRUE(eventually([&] { return b->bridge().recoveries == 1; }));
  EXPECT_TRUE(b->in_l1("k"));
}

TEST_F(InvalidationBridge, ChannelPrefixSeparatesCaches) {
  auto c_cfg = redis_node_config(redis, "node-c");
  c_cfg.invalidation.channel_prefix = "other-app:";
  start(redis_node_config(redis, "node-a"), c_cfg);
  ASSERT_TRUE(b->client().set("k", bytes{"c's own"}));
  ASSERT_TRUE(a->client().call<write_ack>(invalidate_atom::value, std::string{"elsewhere"}));
  publish(R"({"type":"Remove","key":"k"})");
  publish(R"({"type":"Remove","key":"k"})", "other-app:cache:invalidate");
  EXPECT_TRUE(eventually([&] { return !b->in_l1("k"); }));
  EXPECT_EQ(b->bridge().received, 1u);
}

TEST_F(InvalidationBridge, SignedMessagesOnlyWhenASecretIsSet) {
  auto a_cfg = redis_node_config(redis, "node-a");
  auto b_cfg = redis_node_config(redis, "node-b");
  a_cfg.invalidation.secret = b_cfg.invalidation.secret = "shared secret";
  start(a_cfg, b_cfg);
  share("k1", "v");
  share("k2", "v");
  publish(R"({"type":"Remove","key":"k1"})");
  publish(R"({"type":"Remove","key":"k1","sig":")" + std::string(64, '0') + R"("})");
  EXPECT_TRUE(eventually([&] { return b->bridge().rejected_signature == 2; }));
  EXPECT_TRUE(b->in_l1("k1"));
  ASSERT_TRUE(a->client().call<write_ack>(invalidate_atom::value, std::string{"k2"}));
  EXPECT_TRUE(eventually([&] { return !b->in_l1("k2"); }));
}

TEST_F(InvalidationBridge, PatternsFromOtherNodesStayWithinAllowedPrefixes) {
  auto b_cfg = redis_node_config(redis, "node-b");
  b_cfg.invalidation.allowed_pattern_prefixes = {"user:"};
  start(redis_node_config(redis, "node-a"), b_cfg);
  share("user:1", "v");
  share("order:1", "v");
  publish(R"({"type":"RemovePattern","pattern":"order:*"})");
  publish(R"({"type":"RemovePattern","pattern":"*"})");
  publish(R"({"type":"RemovePattern","pattern":"user:*"})");
  EXPECT_TRUE(eventually([&] { return !b->in_l1("user:1"); }));
  EXPECT_TRUE(b->in_l1("order:1"));
  EXPECT_EQ(b->bridge().rejected_patterns, 2u);
}

TEST_F(InvalidationBridge, BroadcastOnWriteSendsEverySet) {
  auto a_cfg = redis_node_config(redis, "node-a");
  a_cfg.options.broadcast_on_write = true;
  start(a_cfg, redis_node_config(redis, "node-b"));
  share("k", "v1");
  ASSERT_TRUE(a->client().set("k", bytes{"v2"}));
  EXPECT_TRUE(eventually([&] { return b->in_l1("k") == std::optional<std::string>{"v2"}; }));
  ASSERT_TRUE(a->client().remove("k"));
  EXPECT_TRUE(eventually([&] { return !b->in_l1("k"); }));
}

TEST_F(InvalidationBridge, NotConfiguredWithoutInvalidation) {
  start();
  auto plain = std::make_unique<node>(cache_config::embedded());
  auto res = plain->client().call<bridge_stats>(stats_atom::value, invalidate_atom::value);
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::not_configured));
  // Invalidation still applies locally.
  ASSERT_TRUE(plain->client().set("k", bytes{"v"}));
  ASSERT_TRUE(plain->client().call<write_ack>(invalidate_atom::value, std::string{"k"}));
  EXPECT_FALSE(plain->client().get("k")->found);
}

} // namespace
