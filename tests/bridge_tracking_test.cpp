// Redis-assisted invalidation (actors/detail/bridge_tracking.cpp) against a real
// redis-server: changes other Redis clients make reach the node's L1, reads that race them
// do not leave the old value there, and lost tracking is noticed and repaired.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include <hiredis/hiredis.h>

#include "mtcache/runtime/metrics.hpp"
#include "support/redis_server.hpp"
#include "support/two_nodes.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;
using mtcache::testing::node;
using mtcache::testing::redis_node_config;

namespace {

// The id of the first client in CLIENT LIST whose line holds `marker`, or "".
std::string client_with(const mtcache::testing::redis_server& redis, const std::string& marker) {
  auto list = redis.command({"CLIENT", "LIST"});
  size_t start = 0;
  while (start < list.size()) {
    auto end = list.find('\n', start);
    auto line = list.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (line.find(marker) != std::string::npos) {
      auto id = line.find("id=");
      return line.substr(id + 3, line.find(' ', id) - id - 3);
    }
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return {};
}

class BridgeTracking : public ::testing::Test {
protected:
  void SetUp() override { ASSERT_TRUE(redis.start()) << redis.error(); }

  cache_config tracked(const std::string& key_prefix = "") {
    auto cfg = redis_node_config(redis, "node-a");
    cfg.tiers[1].redis.key_prefix = key_prefix;
    cfg.invalidation.tracking = true;
    return cfg;
  }

  void start(const cache_config& cfg) {
    a = std::make_unique<node>(cfg);
    ASSERT_TRUE(a->ok()) << a->error();
    ASSERT_TRUE(eventually([&] { return a->bridge().tracking; }));
  }

  // What the node serves for `key`: its value, or "(none)".
  std::string served(const std::string& key) {
    auto res = a->client().get(key);
    return res && res->found ? res->value.str() : "(none)";
  }

  mtcache::testing::redis_server redis;
  std::unique_ptr<node> a;
};

TEST_F(BridgeTracking, ChangesFromOtherClientsLeaveL1) {
  start(tracked());
  for (auto key : {"set", "del", "expire"}) {
    ASSERT_TRUE(a->client().set(key, bytes{"old"}));
    ASSERT_TRUE(a->in_l1(key));
  }
  redis.command({"SET", "set", "new"});
  redis.command({"DEL", "del"});
  redis.command({"PEXPIRE", "expire", "20"});
  EXPECT_TRUE(eventually([&] { return served("set") == "new"; }));
  EXPECT_TRUE(eventually([&] { return served("del") == "(none)"; }));
  EXPECT_TRUE(eventually([&] { return served("expire") == "(none)"; }));
  auto s = a->bridge();
  EXPECT_GE(s.tracking_invalidations, 3u);
  EXPECT_TRUE(s.tracking);
  auto text = render_metrics(a->sys());
  ASSERT_TRUE(text) << a->sys().render(text.error());
  EXPECT_NE(text->find("mtcache_tracking_on{cache=\"cache\"} 1"), std::string::npos) << *text;
  EXPECT_NE(text->find("mtcache_tracking_invalidations_total{cache=\"cache\"} "),
            std::string::npos);
}

TEST_F(BridgeTracking, OwnWritesAreNotReportedBack) {
  start(tracked());
  auto before = a->bridge().tracking_invalidations;
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(a->client().set("mine" + std::to_string(i), bytes{"v"}));
  // A change from outside after them: once it arrived, so would have ours.
  ASSERT_TRUE(a->client().set("fence", bytes{"old"}));
  redis.command({"SET", "fence", "new"});
  ASSERT_TRUE(eventually([&] { return served("fence") == "new"; }));
  EXPECT_EQ(a->bridge().tracking_invalidations, before + 1);
  EXPECT_TRUE(a->in_l1("mine0"));
}

TEST_F(BridgeTracking, KeyPrefixIsTrackedAndStripped) {
  start(tracked("app:"));
  ASSERT_TRUE(a->client().set("k", bytes{"old"}));
  ASSERT_TRUE(a->in_l1("k"));
  redis.command({"SET", "other:k", "x"});
  redis.command({"SET", "app:k", "new"});
  EXPECT_TRUE(eventually([&] { return served("k") == "new"; }));
  EXPECT_EQ(a->bridge().tracking_invalidations, 1u) << "other:k is outside the prefix";
}

TEST_F(BridgeTracking, FlushallDropsTheLocalTiers) {
  start(tracked());
  ASSERT_TRUE(a->client().set("k", bytes{"v"}));
  auto flushes = a->bridge().flushes_tracking;
  redis.command({"FLUSHALL"});
  EXPECT_TRUE(eventually([&] { return a->bridge().tracking_db_flushes == 1; }));
  EXPECT_EQ(a->bridge().flushes_tracking, flushes + 1);
  // The bridge counts the flush when it sends it; the memory tier applies it a moment later.
  EXPECT_TRUE(eventually([&] { return served("k") == "(none)"; }));
}

// Outside writes race the node's reads of the same few keys; once they stop, every value
// L1 holds is Redis' own.
TEST_F(BridgeTracking, RacingReadsLeaveNoStaleL1Entry) {
  start(tracked());
  constexpr int hot = 4;
  constexpr int writes = 10000;
  auto key = [](int i) { return "hot" + std::to_string(i); };
  std::thread writer([&] {
    auto* c = redisConnect("127.0.0.1", redis.port());
    ASSERT_TRUE(c && !c->err);
    for (int i = 0; i < writes; ++i) {
      auto* r = static_cast<redisReply*>(redisCommand(c, "SET %s %d", key(i % hot).c_str(), i));
      freeReplyObject(r);
    }
    redisFree(c);
  });
  std::thread reader([&] {
    for (int i = 0; i < writes; ++i)
      a->client().get(key(i % hot));
  });
  for (int i = 0; i < writes; ++i)
    a->client().get(key((i + 1) % hot));
  writer.join();
  reader.join();
  ASSERT_TRUE(a->client().set("fence", bytes{"old"}));
  redis.command({"SET", "fence", "new"});
  ASSERT_TRUE(eventually([&] { return served("fence") == "new"; }));
  for (int i = 0; i < hot; ++i) {
    auto res = a->client().get(key(i));
    ASSERT_TRUE(res && res->found);
    if (res->level == 1) {
      EXPECT_EQ(res->value.str(), redis.command({"GET", key(i)})) << key(i);
    }
  }
  RecordProperty("tracking_races", std::to_string(a->client().stats()->tracking_races));
}

TEST_F(BridgeTracking, AKilledConnectionIsNoticedAndTrackingComesBack) {
  start(tracked());
  auto killed = [&](const std::string& marker) {
    auto before = a->bridge();
    auto id = client_with(redis, marker);
    ASSERT_FALSE(id.empty()) << marker;
    redis.command({"CLIENT", "KILL", "ID", id});
    EXPECT_TRUE(eventually([&] {
      auto s = a->bridge();
      return s.tracking_broken > before.tracking_broken && s.tracking &&
             s.flushes_tracking > before.flushes_tracking;
    })) << marker;
    ASSERT_TRUE(a->client().set("k", bytes{"old"}));
    ASSERT_TRUE(a->in_l1("k"));
    redis.command({"SET", "k", "new-" + marker});
    EXPECT_TRUE(eventually([&] { return served("k") == "new-" + marker; })) << marker;
  };
  killed("sub=2");   // the subscriber the invalidations are redirected to
  killed("flags=t"); // the Redis tier's tracking data connection
}

TEST_F(BridgeTracking, WithoutTheChannelPermissionItSaysSoAndKeepsServing) {
  redis.command({"ACL", "SETUSER", "app", "on", ">secret", "~*", "&cache:*", "+@all"});
  auto cfg = tracked();
  cfg.tiers[1].redis.url = redis.url(0, "app:secret@");
  a = std::make_unique<node>(cfg);
  ASSERT_TRUE(a->ok()) << a->error();
  ASSERT_TRUE(eventually([&] { return a->bridge().tracking_errors > 0; }));
  auto s = a->bridge();
  EXPECT_FALSE(s.tracking);
  EXPECT_NE(s.tracking_error.find("&__redis__:invalidate"), std::string::npos) << s.tracking_error;
  EXPECT_TRUE(eventually([&] { return a->bridge().redis_subscribed; }));
  ASSERT_TRUE(a->client().set("k", bytes{"v"}));
  EXPECT_EQ(served("k"), "v");
}

TEST_F(BridgeTracking, ConfigurationIsChecked) {
  auto cfg = tracked();
  cfg.invalidation.redis = false;
  cfg.invalidation.listen = true;
  node without_pubsub(cfg);
  EXPECT_NE(without_pubsub.error().find("tracking needs invalidation.redis"), std::string::npos)
      << without_pubsub.error();
  cfg = tracked();
  cfg.invalidation.redis_url = "redis://127.0.0.1:1";
  node elsewhere(cfg);
  EXPECT_NE(elsewhere.error().find("on the invalidation Redis server"), std::string::npos)
      << elsewhere.error();
  cfg = tracked();
  cfg.invalidation.tracking_prefixes = {"a:", "a:b"};
  node overlapping(cfg);
  EXPECT_NE(overlapping.error().find("overlap"), std::string::npos) << overlapping.error();
  cfg = tracked();
  cfg.invalidation.redis_url = "redis+cluster://127.0.0.1:1,127.0.0.1:2";
  for (auto& spec : cfg.tiers)
    if (spec.type == mtcache::tier_spec::kind::redis)
      spec.redis.url = cfg.invalidation.redis_url;
  node on_cluster(cfg);
  EXPECT_NE(on_cluster.error().find("not supported on a Redis Cluster"), std::string::npos)
      << on_cluster.error();
}

} // namespace
