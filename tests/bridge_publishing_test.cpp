// Sending changes (actors/detail/bridge_publishing.cpp) against a real redis-server: large
// values never become messages that receivers drop or that overflow Redis' Pub/Sub
// buffers, and what Redis missed goes out compacted once it is back.
#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "mtcache/codec/detail/invalidation_json.hpp"
#include "support/redis_server.hpp"
#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;
using mtcache::testing::node;
using mtcache::testing::redis_node_config;

namespace {

class BridgePublishing : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(redis.start()) << redis.error();
    a = std::make_unique<node>(redis_node_config(redis, "node-a"));
    b = std::make_unique<node>(redis_node_config(redis, "node-b"));
    ASSERT_TRUE(a->ok() && b->ok());
    ASSERT_TRUE(
        eventually([&] { return a->bridge().redis_subscribed && b->bridge().redis_subscribed; }));
  }

  mtcache::testing::redis_server redis;
  std::unique_ptr<node> a;
  std::unique_ptr<node> b;
};

TEST_F(BridgePublishing, LargeBroadcastValuesReachTheOtherNodeAsRemovals) {
  // 600 KiB became a Pub/Sub message over 1 MiB that receivers dropped; 16 MiB one that
  // overflowed Redis' output buffers and disconnected every subscriber.
  for (size_t size : {600 * 1024, 16 * 1024 * 1024}) {
    std::string key = "big-" + std::to_string(size);
    ASSERT_TRUE(a->client().set(key, bytes{"old"}));
    ASSERT_TRUE(b->client().get(key));
    ASSERT_EQ(b->in_l1(key), "old");
    std::string value(size, 'n');
    auto ack = a->client().call<write_ack>(put_atom::value, key, bytes{value},
                                           strategy::short_term(), broadcast_atom::value);
    ASSERT_TRUE(ack);
    ASSERT_TRUE(ack->failed.empty());
    ASSERT_TRUE(eventually([&] { return !b->in_l1(key); })) << size;
    auto seen = b->client().get(key);
    ASSERT_TRUE(seen && seen->found);
    EXPECT_EQ(seen->value.size(), size) << "B reads the new value from Redis";
  }
  // Updates go the same way.
  ASSERT_TRUE(a->client().call<write_ack>(update_atom::value, std::string{"big-u"},
                                          bytes{std::string(100 * 1024, 'u')},
                                          caf::timespan{1min}));
  EXPECT_EQ(a->bridge().large_updates_removed, 3u);
  auto s = b->bridge();
  EXPECT_EQ(s.processing_errors, 0u);
  EXPECT_EQ(s.redis_reconnects, 0u);
  EXPECT_EQ(s.flushes, 0u);
  EXPECT_TRUE(b->bridge().redis_subscribed);
}

TEST_F(BridgePublishing, SmallUpdatesStillCarryTheirValue) {
  ASSERT_TRUE(a->client().call<write_ack>(update_atom::value, std::string{"small"},
                                          bytes{std::string(64 * 1024, 's')}, caf::timespan{1min}));
  EXPECT_TRUE(eventually([&] { return b->in_l1("small").has_value(); }));
  EXPECT_EQ(a->bridge().large_updates_removed, 0u);
}

TEST_F(BridgePublishing, AnOversizedMessageStillRemovesItsKey) {
  // From a sender that does not keep to a size threshold (an older node, the crate).
  ASSERT_TRUE(b->client().set("k", bytes{"old"}));
  ASSERT_EQ(b->in_l1("k"), "old");
  invalidation x;
  x.type = invalidation::kind::update;
  x.key = "k";
  x.value = bytes{std::string(2 * 1024 * 1024, 'v')};
  x.origin = "node-x";
  redis.command({"PUBLISH", "cache:invalidate", detail::encode_invalidation(x)});
  EXPECT_TRUE(eventually([&] { return !b->in_l1("k"); }));
  auto s = b->bridge();
  EXPECT_EQ(s.oversized_removed, 1u);
  EXPECT_EQ(s.received_removes, 1u);
  EXPECT_EQ(s.processing_errors, 0u);
}

TEST_F(BridgePublishing, NewChangesDoNotWaitBehindABacklog) {
  redis.kill();
  for (int i = 0; i < 2000; ++i)
    ASSERT_TRUE(a->client().call<write_ack>(invalidate_atom::value, "held-" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return a->bridge().publish_held == 2000; }));
  ASSERT_TRUE(redis.restart()) << redis.error();
  ASSERT_TRUE(eventually([&] { return b->bridge().redis_subscribed; }, 10s));
  ASSERT_TRUE(a->client().set("fresh", bytes{"1"}));
  ASSERT_TRUE(b->client().get("fresh"));
  ASSERT_TRUE(a->client().call<write_ack>(invalidate_atom::value, std::string{"fresh"}));
  EXPECT_TRUE(eventually([&] { return !b->in_l1("fresh"); }, 2s));
  EXPECT_TRUE(eventually([&] { return a->bridge().publish_held == 0; }));
  auto s = a->bridge();
  EXPECT_LE(s.backlog_messages, 3u) << "2 000 held changes go out as a few messages";
  EXPECT_TRUE(eventually([&] { return b->bridge().missing == 0; }));
  EXPECT_EQ(b->bridge().flushes_gap, 0u);
}

} // namespace
