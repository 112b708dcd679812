#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include "mtcache/actors/redis_tier.hpp"
#include "mtcache/messages/error.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;

namespace {

class RedisTier : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override { ASSERT_TRUE(redis.start()) << redis.error(); }

  void TearDown() override {
    if (tier)
      caf::anon_send_exit(tier, caf::exit_reason::user_shutdown);
  }

  void start(redis_tier_config cfg) {
    if (cfg.url.empty())
      cfg.url = redis.url();
    auto spawned = spawn_redis_tier(sys, cfg, 2);
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    tier = *spawned;
  }

  redis_tier_config quick() {
    redis_tier_config cfg;
    cfg.request_timeout = 200ms;
    cfg.backoff_initial = 20ms;
    cfg.backoff_max = 100ms;
    return cfg;
  }

  // Sends one request and waits for its reply; fails the test on an error.
  template <class R, class... Ts>
  caf::expected<R> ask(Ts... xs) {
    caf::expected<R> out{caf::error{}};
    self->request(tier, 5s, xs...)
        .receive([&](R& x) { out = std::move(x); }, [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  bool put(const std::string& key, const std::string& value, caf::timespan ttl = {}) {
    return static_cast<bool>(ask<ok_atom>(put_atom::value, key, bytes{value}, ttl));
  }

  mtcache::testing::redis_server redis;
  caf::scoped_actor self{sys};
  batch_tier_actor tier;
};

TEST_F(RedisTier, GetReturnsValueAndRemainingTtlInMilliseconds) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return put("k", "v", 5s); }));
  EXPECT_NEAR(std::stoll(redis.command({"PTTL", "k"})), 5000, 500);
  auto res = ask<lookup>(get_atom::value, std::string{"k"});
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_TRUE(res->found);
  EXPECT_EQ(res->value.view(), "v");
  EXPECT_EQ(res->level, 2u);
  EXPECT_NEAR(static_cast<double>(res->ttl_ms), 5000, 500);
  ASSERT_TRUE(put("forever", "x"));
  EXPECT_EQ(ask<lookup>(get_atom::value, std::string{"forever"})->ttl_ms, -1);
  EXPECT_FALSE(ask<lookup>(get_atom::value, std::string{"absent"})->found);
  // Binary values survive as they are.
  std::string binary{"a\0b\r\n", 5};
  ASSERT_TRUE(put("bin", binary));
  EXPECT_EQ(ask<lookup>(get_atom::value, std::string{"bin"})->value.str(), binary);
}

TEST_F(RedisTier, PrefixIsolatesNamespaces) {
  auto cfg = quick();
  cfg.key_prefix = "app1:";
  start(cfg);
  ASSERT_TRUE(eventually([&] { return put("user:1", "v"); }));
  EXPECT_EQ(redis.command({"GET", "app1:user:1"}), "v");
  redis.command({"SET", "user:1", "outside"});
  redis.command({"SET", "app2:user:2", "other"});
  auto removed = ask<uint64_t>(delete_atom::value, match_atom::value, std::string{"user:*"});
  ASSERT_TRUE(removed) << sys.render(removed.error());
  EXPECT_EQ(*removed, 1u);
  EXPECT_EQ(redis.command({"EXISTS", "user:1"}), "1");
  EXPECT_EQ(redis.command({"EXISTS", "app2:user:2"}), "1");
  ASSERT_TRUE(put("a", "1"));
  ASSERT_TRUE(put("b", "2"));
  auto cleared = ask<uint64_t>(clear_atom::value);
  ASSERT_TRUE(cleared);
  EXPECT_EQ(*cleared, 2u);
  EXPECT_EQ(redis.command({"DBSIZE"}), "2");
}

TEST_F(RedisTier, PatternRemovalWalksManyScanBatches) {
  auto cfg = quick();
  cfg.scan_count = 50;
  start(cfg);
  ASSERT_TRUE(eventually([&] { return put("warmup", "x"); }));
  for (int i = 0; i < 1500; ++i)
    redis.command({"SET", "bulk:" + std::to_string(i), "v"});
  redis.command({"SET", "keep:1", "v"});
  auto removed = ask<uint64_t>(delete_atom::value, match_atom::value, std::string{"bulk:*"});
  ASSERT_TRUE(removed) << sys.render(removed.error());
  EXPECT_EQ(*removed, 1500u);
  EXPECT_EQ(redis.command({"EXISTS", "keep:1"}), "1");
  std::vector<std::string> keys{"keep:1", "warmup", "absent"};
  auto bulk = ask<uint64_t>(delete_atom::value, keys);
  ASSERT_TRUE(bulk);
  EXPECT_EQ(*bulk, 2u);
}

TEST_F(RedisTier, ExistsDeleteAndHealth) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return put("k", "v"); }));
  EXPECT_TRUE(*ask<bool>(exists_atom::value, std::string{"k"}));
  EXPECT_EQ(*ask<uint64_t>(delete_atom::value, std::string{"k"}), 1u);
  EXPECT_FALSE(*ask<bool>(exists_atom::value, std::string{"k"}));
  auto health = ask<tier_health>(health_atom::value);
  ASSERT_TRUE(health);
  EXPECT_TRUE(health->ok);
  EXPECT_EQ(health->kind, "redis");
}

// The coordinator's batches: one SET per write, answered per write in order.
TEST_F(RedisTier, BatchedWritesAreAnsweredPerWrite) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return put("warm", "v"); }));
  std::vector<tier_write> writes;
  for (int i = 0; i < 300; ++i)
    writes.push_back({"b:" + std::to_string(i), bytes{std::to_string(i)},
                      i % 2 == 1 ? caf::timespan{5s} : caf::timespan{0}});
  auto res = ask<std::vector<caf::error>>(put_atom::value, writes);
  ASSERT_TRUE(res) << sys.render(res.error());
  ASSERT_EQ(res->size(), writes.size());
  for (auto& err : *res)
    EXPECT_FALSE(err) << sys.render(err);
  EXPECT_EQ(redis.command({"GET", "b:0"}), "0");
  EXPECT_EQ(redis.command({"GET", "b:299"}), "299");
  EXPECT_EQ(redis.command({"PTTL", "b:0"}), "-1");
  EXPECT_NEAR(std::stoll(redis.command({"PTTL", "b:299"})), 5000, 500);
  EXPECT_TRUE(ask<std::vector<caf::error>>(put_atom::value, std::vector<tier_write>{})->empty());
  // Redis refusing writes (over maxmemory, no eviction) fails each one, counted each.
  redis.command({"CONFIG", "SET", "maxmemory", "1"});
  writes.resize(3);
  auto refused = ask<std::vector<caf::error>>(put_atom::value, writes);
  ASSERT_TRUE(refused) << sys.render(refused.error());
  ASSERT_EQ(refused->size(), 3u);
  for (auto& err : *refused)
    EXPECT_TRUE(is(err, errc::backend_error)) << sys.render(err);
  auto stats = ask<tier_stats>(stats_atom::value);
  EXPECT_EQ(stats->writes, 301u);
  EXPECT_EQ(stats->errors, 3u);
  // The connection stays usable.
  EXPECT_TRUE(ask<lookup>(get_atom::value, std::string{"b:7"})->found);
}

TEST_F(RedisTier, BatchedReadsAnswerEachKeyWithItsTtl) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return put("a", "1", 5s); }));
  ASSERT_TRUE(put("b", "2"));
  redis.command({"LPUSH", "list", "x"});
  std::vector<std::string> keys{"a", "absent", "list", "b"};
  auto res = ask<read_batch>(get_atom::value, keys);
  ASSERT_TRUE(res) << sys.render(res.error());
  ASSERT_EQ(res->results.size(), 4u);
  EXPECT_EQ(res->results[0].value.view(), "1");
  EXPECT_NEAR(static_cast<double>(res->results[0].ttl_ms), 5000, 500);
  EXPECT_EQ(res->results[0].level, 2u);
  EXPECT_FALSE(res->results[1].found);
  // MGET answers a key of another type with nil: a miss, not a failure.
  EXPECT_FALSE(res->results[2].found);
  EXPECT_TRUE(res->failed.empty());
  EXPECT_EQ(res->results[3].value.view(), "2");
  EXPECT_EQ(res->results[3].ttl_ms, -1);
  auto stats = ask<tier_stats>(stats_atom::value);
  EXPECT_EQ(stats->hits, 2u);
  EXPECT_EQ(stats->misses, 2u);
  EXPECT_EQ(stats->errors, 0u);
  EXPECT_TRUE(ask<read_batch>(get_atom::value, std::vector<std::string>{})->results.empty());
}

// A refused MGET (here an ACL without it) fails the whole batch, counted per key; the
// connection stays usable.
TEST_F(RedisTier, RefusedBatchReadFailsEveryKey) {
  redis.kill();
  ASSERT_TRUE(redis.start({"--user", "bob", "on", ">pw", "~*", "&*", "+@all", "-mget"}))
      << redis.error();
  auto cfg = quick();
  cfg.url = redis.url(0, "bob:pw@");
  start(cfg);
  ASSERT_TRUE(eventually([&] { return put("a", "1"); }));
  auto res = ask<read_batch>(get_atom::value, std::vector<std::string>{"a", "b", "c"});
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::backend_error)) << sys.render(res.error());
  EXPECT_EQ(ask<tier_stats>(stats_atom::value)->errors, 3u);
  EXPECT_EQ(ask<lookup>(get_atom::value, std::string{"a"})->value.view(), "1");
}

TEST_F(RedisTier, PipelinesManyConcurrentRequests) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return put("k", "v"); }));
  constexpr int n = 2000;
  for (int i = 0; i < n; ++i)
    self->send(tier, get_atom::value, std::string{"k"});
  int hits = 0;
  self->receive_for(hits, n)([&](const lookup& res) { EXPECT_TRUE(res.found); });
  EXPECT_EQ(hits, n);
}

TEST_F(RedisTier, FailsWithinTimeoutWhenRedisHangsAndRecovers) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return put("k", "v"); }));
  redis.pause();
  auto begin = std::chrono::steady_clock::now();
  auto res = ask<lookup>(get_atom::value, std::string{"k"});
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::timeout)) << sys.render(res.error());
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 1s);
  redis.resume();
  EXPECT_TRUE(eventually([&] {
    auto r = ask<lookup>(get_atom::value, std::string{"k"});
    return r && r->found;
  }));
  auto stats = ask<tier_stats>(stats_atom::value);
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->timeouts, 1u);
  EXPECT_GE(stats->reconnects, 1u);
}

TEST_F(RedisTier, FailsFastWhileRedisIsDownAndReconnects) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return put("k", "v"); }));
  redis.kill();
  auto res = ask<ok_atom>(put_atom::value, std::string{"k"}, bytes{"v"}, caf::timespan{0});
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::backend_unavailable)) << sys.render(res.error());
  auto health = ask<tier_health>(health_atom::value);
  ASSERT_TRUE(health);
  EXPECT_FALSE(health->ok);
  ASSERT_TRUE(redis.restart()) << redis.error();
  EXPECT_TRUE(eventually([&] { return put("k", "again"); }));
  EXPECT_EQ(redis.command({"GET", "k"}), "again");
}

TEST_F(RedisTier, UnreachableAtStartFailsThenConnectsLater) {
  auto port = redis.port();
  redis.kill();
  auto cfg = quick();
  cfg.url = "redis://127.0.0.1:" + std::to_string(port);
  start(cfg);
  EXPECT_TRUE(eventually([&] {
    auto r = ask<lookup>(get_atom::value, std::string{"k"});
    return !r;
  }));
  ASSERT_TRUE(redis.restart());
  EXPECT_TRUE(eventually([&] { return put("k", "v"); }));
}

TEST_F(RedisTier, AuthenticatesWithPasswordAndAclUserAndSelectsDb) {
  redis.kill();
  ASSERT_TRUE(redis.start(
      {"--requirepass", "s3cret", "--user", "alice", "on", ">wonder", "~*", "&*", "+@all"}))
      << redis.error();
  auto cfg = quick();
  cfg.url = redis.url(3, ":s3cret@");
  start(cfg);
  ASSERT_TRUE(eventually([&] { return put("pw", "1"); }));
  EXPECT_EQ(redis.command({"GET", "pw"}, 3, "s3cret"), "1");
  caf::anon_send_exit(tier, caf::exit_reason::user_shutdown);
  cfg.url = redis.url(0, "alice:wonder@");
  start(cfg);
  ASSERT_TRUE(eventually([&] { return put("acl", "2"); }));
  EXPECT_EQ(redis.command({"GET", "acl"}, 0, "wonder", "alice"), "2");
  caf::anon_send_exit(tier, caf::exit_reason::user_shutdown);
  cfg.url = redis.url(0, "alice:wrong@");
  start(cfg);
  auto health = ask<tier_health>(health_atom::value);
  ASSERT_TRUE(health);
  EXPECT_FALSE(health->ok);
  EXPECT_TRUE(eventually([&] {
    auto h = ask<tier_health>(health_atom::value);
    return h && h->detail.find("unauthenticated") != std::string::npos;
  }));
}

TEST_F(RedisTier, MalformedUrlIsRejected) {
  redis_tier_config cfg;
  cfg.url = "redis://:@";
  auto spawned = spawn_redis_tier(sys, cfg, 2);
  ASSERT_FALSE(spawned);
  EXPECT_TRUE(is(spawned.error(), errc::invalid_url));
}

} // namespace
