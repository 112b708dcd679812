// Replay from the audit stream (actors/detail/bridge_replay.cpp), against a real
// redis-server: a node that missed changes reads them back instead of dropping its L1, and
// drops it exactly once when the stream no longer holds them.
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

constexpr auto channel = "cache:invalidate";
constexpr auto stream = "cache:invalidations";

cache_config audited(const mtcache::testing::redis_server& redis, const std::string& id) {
  auto cfg = redis_node_config(redis, id);
  cfg.invalidation.audit = true;
  cfg.invalidation.recovery = recovery_policy::replay;
  return cfg;
}

// Another node's change, as it travels.
std::string removal(const std::string& key, uint64_t seq) {
  invalidation x;
  x.key = key;
  x.origin = "node-x";
  x.epoch = 1;
  x.seq = seq;
  return detail::encode_invalidation(x);
}

class BridgeReplay : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(redis.start()) << redis.error(); }

  void start(cache_config cfg) {
    b = std::make_unique<node>(cfg);
    ASSERT_TRUE(b->ok()) << b->error();
    ASSERT_TRUE(eventually([&] { return b->bridge().redis_subscribed; }));
  }

  // The node's L1 holds `key`.
  void cache(const std::string& key) {
    ASSERT_TRUE(b->client().set(key, bytes{"v"}));
    ASSERT_TRUE(b->in_l1(key));
  }

  // A change of node-x that reaches Pub/Sub and the stream, in that order, as a node sends it.
  void send(const std::string& key, uint64_t seq) {
    auto msg = removal(key, seq);
    redis.command({"PUBLISH", channel, msg});
    audit_only(key, seq);
  }

  // A change of node-x that only reaches the stream: its Pub/Sub message was lost.
  void audit_only(const std::string& key, uint64_t seq, const std::string& maxlen = "10000") {
    redis.command({"XADD", stream, "MAXLEN", "~", maxlen, "*", "type", "remove", "timestamp", "0",
                   "key", key, "msg", removal(key, seq)});
  }

  mtcache::testing::redis_server redis;
  std::unique_ptr<node> b;
};

TEST_F(BridgeReplay, AGapIsFilledFromTheAuditStreamWithoutAFlush) {
  auto cfg = audited(redis, "node-b");
  // One position at subscribe time and none after: the test decides what comes after it.
  cfg.invalidation.keepalive = 10s;
  start(cfg);
  for (auto key : {"k1", "k2", "k3", "keep"})
    cache(key);
  ASSERT_TRUE(eventually([&] { return !b->bridge().replay_position.empty(); }));
  send("k1", 1);
  ASSERT_TRUE(eventually([&] { return b->bridge().received == 1; }));
  audit_only("k2", 2);
  audit_only("k3", 3);
  send("other", 4);
  EXPECT_TRUE(eventually([&] { return !b->in_l1("k2") && !b->in_l1("k3"); }));
  auto s = b->bridge();
  EXPECT_EQ(s.gaps, 1u);
  EXPECT_EQ(s.replays, 1u);
  EXPECT_GE(s.replayed, 2u);
  EXPECT_EQ(s.missing, 0u);
  EXPECT_EQ(s.flushes, 0u);
  EXPECT_TRUE(b->in_l1("keep")) << "only what was missed is dropped";
}

TEST_F(BridgeReplay, AStreamTrimmedPastTheGapFlushesExactlyOnce) {
  auto cfg = audited(redis, "node-b");
  cfg.invalidation.keepalive = 10s;
  start(cfg);
  cache("keep");
  ASSERT_TRUE(eventually([&] { return !b->bridge().replay_position.empty(); }));
  send("k1", 1);
  ASSERT_TRUE(eventually([&] { return b->bridge().received == 1; }));
  for (uint64_t seq = 2; seq <= 501; ++seq)
    audit_only("k" + std::to_string(seq), seq, "100");
  send("last", 502);
  EXPECT_TRUE(eventually([&] { return b->bridge().flushes == 1; }));
  EXPECT_EQ(b->bridge().flushes_trimmed, 1u);
  EXPECT_TRUE(eventually([&] { return b->l1_size() == 0; }));
  // Later changes apply as usual and flush nothing more.
  cache("again");
  send("x", 503);
  send("again", 504);
  EXPECT_TRUE(eventually([&] { return !b->in_l1("again"); }));
  auto s = b->bridge();
  EXPECT_EQ(s.flushes, 1u);
  EXPECT_EQ(s.missing, 0u);
}

TEST_F(BridgeReplay, AReconnectReplaysWhatTheSubscriptionMissed) {
  auto a_cfg = audited(redis, "node-a");
  auto b_cfg = audited(redis, "node-b");
  // B stays away for a while after the kill; A publishes meanwhile.
  b_cfg.invalidation.backoff_initial = 400ms;
  b_cfg.invalidation.backoff_max = 400ms;
  node a{a_cfg};
  ASSERT_TRUE(a.ok()) << a.error();
  start(b_cfg);
  for (int i = 0; i < 5; ++i)
    cache("k" + std::to_string(i));
  cache("keep");
  ASSERT_TRUE(eventually([&] { return !b->bridge().replay_position.empty(); }));
  redis.command({"CLIENT", "KILL", "TYPE", "pubsub"});
  ASSERT_TRUE(eventually([&] { return !b->bridge().redis_subscribed; }));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(a.client().call<write_ack>(invalidate_atom::value, "k" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return b->bridge().redis_subscribed; }));
  EXPECT_TRUE(eventually([&] {
    for (int i = 0; i < 5; ++i)
      if (b->in_l1("k" + std::to_string(i)))
        return false;
    return true;
  }));
  auto s = b->bridge();
  EXPECT_GE(s.replays, 1u);
  EXPECT_GE(s.replayed, 5u);
  EXPECT_EQ(s.flushes, 0u);
  EXPECT_TRUE(b->in_l1("keep"));
}

TEST_F(BridgeReplay, WithoutAuditAReconnectFlushes) {
  auto cfg = redis_node_config(redis, "node-b");
  cfg.invalidation.recovery = recovery_policy::replay;
  start(cfg);
  cache("k");
  redis.command({"CLIENT", "KILL", "TYPE", "pubsub"});
  EXPECT_TRUE(eventually([&] { return b->bridge().flushes == 1; }));
  EXPECT_EQ(b->bridge().flushes_reconnect, 1u);
  EXPECT_EQ(b->bridge().replays, 0u);
  EXPECT_TRUE(eventually([&] { return b->l1_size() == 0; }));
}

} // namespace
