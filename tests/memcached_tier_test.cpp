#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <caf/scoped_actor.hpp>

#include "mtcache/actors/memcached_tier.hpp"
#include "mtcache/codec/detail/ketama.hpp"
#include "mtcache/codec/detail/memcached_key.hpp"
#include "mtcache/messages/error.hpp"
#include "support/actor_system_fixture.hpp"
#include "support/memcached_server.hpp"
#include "support/redis_server.hpp"

using namespace mtcache;
using namespace std::chrono_literals;
using mtcache::testing::eventually;

namespace {

class MemcachedTier : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override { ASSERT_TRUE(server.start()) << server.error(); }

  void TearDown() override {
    if (tier)
      caf::anon_send_exit(tier, caf::exit_reason::user_shutdown);
  }

  void start(memcached_tier_config cfg) {
    if (cfg.url.empty())
      cfg.url = server.url();
    auto spawned = spawn_memcached_tier(sys, cfg, 2);
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    tier = *spawned;
  }

  memcached_tier_config quick() {
    memcached_tier_config cfg;
    cfg.request_timeout = 200ms;
    cfg.backoff_initial = 20ms;
    cfg.backoff_max = 100ms;
    return cfg;
  }

  template <class R, class... Ts>
  caf::expected<R> ask(Ts... xs) {
    caf::expected<R> out{caf::error{}};
    self->request(tier, 5s, xs...)
        .receive([&](R& x) { out = std::move(x); }, [&](caf::error& err) { out = std::move(err); });
    return out;
  }

  caf::expected<ok_atom> put(const std::string& key, const std::string& value,
                             caf::timespan ttl = {}) {
    return ask<ok_atom>(put_atom::value, key, bytes{value}, ttl);
  }

  caf::expected<lookup> get(const std::string& key) { return ask<lookup>(get_atom::value, key); }

  // The remaining TTL in seconds memcached reports for `key` (-1: none, -2: no such key).
  // Its clock ticks once a second, so a reading may be one below what was set.
  long server_ttl(const std::string& key) {
    auto reply = server.command("mg " + key + " t\r\n");
    if (reply.rfind("HD t", 0) != 0)
      return -2;
    return std::stol(reply.substr(4));
  }

  mtcache::testing::memcached_server server;
  caf::scoped_actor self{sys};
  batch_tier_actor tier;
};

TEST_F(MemcachedTier, GetReturnsValueAndRemainingTtl) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("k", "v", 5s)); }));
  EXPECT_NEAR(server_ttl("k"), 5, 1);
  auto res = get("k");
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_TRUE(res->found);
  EXPECT_EQ(res->value.view(), "v");
  EXPECT_EQ(res->level, 2u);
  EXPECT_NEAR(static_cast<double>(res->ttl_ms), 5000, 1000);
  ASSERT_TRUE(put("forever", "x"));
  EXPECT_EQ(get("forever")->ttl_ms, -1);
  EXPECT_EQ(server_ttl("forever"), -1);
  EXPECT_FALSE(get("absent")->found);
  std::string binary{"a\0b\r\nEN\r\n", 9};
  ASSERT_TRUE(put("bin", binary));
  EXPECT_EQ(get("bin")->value.str(), binary);
  // Other clients see the same item under the same name.
  EXPECT_EQ(server.command("mg k v\r\n"), "VA 1\r\nv\r\n");
}

// memcached counts whole seconds: a TTL below one second must not become 0 (never).
TEST_F(MemcachedTier, TtlsGoOutInWholeSecondsRoundedUpAndExpire) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("short", "v", 200ms)); }));
  auto short_ttl = server_ttl("short");
  EXPECT_TRUE(short_ttl == 1 || short_ttl == -2) << short_ttl;
  ASSERT_TRUE(put("mid", "v", 1500ms));
  EXPECT_NEAR(server_ttl("mid"), 2, 1);
  EXPECT_TRUE(eventually([&] { return !get("short")->found; }, 3s));
  EXPECT_TRUE(eventually([&] { return !get("mid")->found; }, 4s));
}

// Above 30 days memcached reads an exptime as a Unix time: sent as a count of seconds the
// value would expire at once (a date in 1970).
TEST_F(MemcachedTier, TtlsAboveThirtyDaysAreSentAsAbsoluteTimes) {
  start(quick());
  caf::timespan forty_days = std::chrono::hours{24 * 40};
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("long", "v", forty_days)); }));
  auto res = get("long");
  ASSERT_TRUE(res && res->found);
  EXPECT_NEAR(static_cast<double>(res->ttl_ms), 40.0 * 86400 * 1000, 5000);
  caf::timespan thirty_days = std::chrono::hours{24 * 30};
  ASSERT_TRUE(put("edge", "v", thirty_days));
  EXPECT_NEAR(server_ttl("edge"), 2592000, 1);
}

// Every key the memory tier takes works here: spaces, control bytes, NUL, UTF-8, binary,
// keys too long for memcached, keys that look like the hashed form.
TEST_F(MemcachedTier, OddKeysRoundTripAndStayApart) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("warm", "v")); }));
  std::vector<std::string> keys{
      "with space",
      std::string{"nul\0inside", 10},
      "tab\tand\r\nnewline",
      "\xc3\xa9t\xc3\xa9",
      std::string(250, 'p'),
      std::string(251, 'p'),
      std::string(186, '\x01'),
      std::string(187, '\x01'),
      std::string(1000, 'q'),
      std::string(1000, 'r'),
      "\xff" + std::string(32, 'x'),
      "\xff",
      "plain:key",
  };
  for (size_t i = 0; i < keys.size(); ++i)
    ASSERT_TRUE(put(keys[i], "value " + std::to_string(i))) << i;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto res = get(keys[i]);
    ASSERT_TRUE(res) << i;
    EXPECT_TRUE(res->found) << i;
    EXPECT_EQ(res->value.str(), "value " + std::to_string(i)) << i;
  }
  // Short keys are stored as their very bytes: binary ones reachable with the b flag.
  EXPECT_EQ(server.command("mg " + detail::base64_encode("with space") + " b v\r\n"),
            "VA 7\r\nvalue 0\r\n");
  EXPECT_EQ(server.command("mg " + std::string(250, 'p') + " v\r\n"), "VA 7\r\nvalue 4\r\n");
  EXPECT_EQ(*ask<uint64_t>(delete_atom::value, std::string(1000, 'q')), 1u);
  EXPECT_FALSE(get(std::string(1000, 'q'))->found);
  EXPECT_TRUE(get(std::string(1000, 'r'))->found);
  EXPECT_TRUE(*ask<bool>(exists_atom::value, std::string{"nul\0inside", 10}));
}

TEST_F(MemcachedTier, PrefixNamespacesKeys) {
  auto cfg = quick();
  cfg.key_prefix = "app1:";
  start(cfg);
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("user:1", "v")); }));
  EXPECT_EQ(server.command("mg app1:user:1 v\r\n"), "VA 1\r\nv\r\n");
  EXPECT_EQ(server.command("mg user:1 v\r\n"), "EN\r\n");
}

// A value that cannot be an item fails, and the older value goes too (memcached does the
// same when it refuses one), so no node reads it after the write.
TEST_F(MemcachedTier, OversizedValuesFailAndRemoveTheOldValue) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("big", "old")); }));
  auto res = put("big", std::string(1024 * 1024, 'x'));
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::value_too_large)) << sys.render(res.error());
  EXPECT_FALSE(get("big")->found);
  // The same from the server's side, when the tier leaves the limit to it.
  caf::anon_send_exit(tier, caf::exit_reason::user_shutdown);
  auto cfg = quick();
  cfg.max_item_bytes = 0;
  start(cfg);
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("big", "old")); }));
  std::vector<tier_write> writes{{"big", bytes{std::string(2 * 1024 * 1024, 'x')}, {}},
                                 {"small", bytes{"s"}, {}}};
  auto answers = ask<std::vector<caf::error>>(put_atom::value, writes);
  ASSERT_TRUE(answers) << sys.render(answers.error());
  ASSERT_EQ(answers->size(), 2u);
  EXPECT_TRUE(is((*answers)[0], errc::value_too_large)) << sys.render((*answers)[0]);
  EXPECT_FALSE((*answers)[1]);
  EXPECT_FALSE(get("big")->found);
  EXPECT_EQ(get("small")->value.view(), "s");
  EXPECT_TRUE(put("fits", std::string(1000 * 1000, 'y')));
  EXPECT_EQ(get("fits")->value.size(), 1000u * 1000);
}

TEST_F(MemcachedTier, PatternRemovalIsNotSupportedAndClearNeedsNoPrefix) {
  auto cfg = quick();
  cfg.key_prefix = "p:";
  start(cfg);
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("a", "1")); }));
  auto removed = ask<uint64_t>(delete_atom::value, match_atom::value, std::string{"a*"});
  ASSERT_FALSE(removed);
  EXPECT_TRUE(is(removed.error(), errc::not_supported)) << sys.render(removed.error());
  auto cleared = ask<uint64_t>(clear_atom::value);
  ASSERT_FALSE(cleared);
  EXPECT_TRUE(is(cleared.error(), errc::not_supported));
  EXPECT_TRUE(get("a")->found);
  caf::anon_send_exit(tier, caf::exit_reason::user_shutdown);
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("b", "2")); }));
  ASSERT_TRUE(ask<uint64_t>(clear_atom::value));
  EXPECT_FALSE(get("b")->found);
  EXPECT_EQ(server.command("mg p:a v\r\n"), "EN\r\n");
}

TEST_F(MemcachedTier, BatchesAreAnsweredPerKeyInOrder) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("warm", "v")); }));
  std::vector<tier_write> writes;
  for (int i = 0; i < 300; ++i)
    writes.push_back({"b:" + std::to_string(i), bytes{std::to_string(i)},
                      i % 2 == 1 ? caf::timespan{5s} : caf::timespan{0}});
  auto res = ask<std::vector<caf::error>>(put_atom::value, writes);
  ASSERT_TRUE(res) << sys.render(res.error());
  ASSERT_EQ(res->size(), writes.size());
  for (auto& err : *res)
    EXPECT_FALSE(err) << sys.render(err);
  std::vector<std::string> keys{"b:0", "absent", "b:299", "with space"};
  auto read = ask<read_batch>(get_atom::value, keys);
  ASSERT_TRUE(read) << sys.render(read.error());
  ASSERT_EQ(read->results.size(), 4u);
  EXPECT_EQ(read->results[0].value.view(), "0");
  EXPECT_EQ(read->results[0].ttl_ms, -1);
  EXPECT_FALSE(read->results[1].found);
  EXPECT_EQ(read->results[2].value.view(), "299");
  EXPECT_NEAR(static_cast<double>(read->results[2].ttl_ms), 5000, 1000);
  EXPECT_FALSE(read->results[3].found);
  EXPECT_TRUE(read->failed.empty());
  EXPECT_EQ(*ask<uint64_t>(delete_atom::value, std::vector<std::string>{"b:1", "b:2", "nope"}), 2u);
  auto stats = ask<tier_stats>(stats_atom::value);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->kind, "memcached");
  EXPECT_EQ(stats->writes, 301u);
  EXPECT_EQ(stats->hits, 2u);
  EXPECT_EQ(stats->misses, 2u);
  EXPECT_EQ(stats->removes, 2u);
  EXPECT_TRUE(stats->connected);
}

TEST_F(MemcachedTier, PipelinesManyConcurrentRequests) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("k", "v")); }));
  constexpr int n = 2000;
  for (int i = 0; i < n; ++i)
    self->send(tier, get_atom::value, std::string{"k"});
  int hits = 0;
  self->receive_for(hits, n)([&](const lookup& res) { EXPECT_TRUE(res.found); });
  EXPECT_EQ(hits, n);
}

TEST_F(MemcachedTier, FailsWithinTimeoutWhenTheServerHangsAndRecovers) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("k", "v")); }));
  server.pause();
  auto begin = std::chrono::steady_clock::now();
  auto res = get("k");
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::timeout)) << sys.render(res.error());
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 1s);
  server.resume();
  EXPECT_TRUE(eventually([&] {
    auto r = get("k");
    return r && r->found;
  }));
  auto stats = ask<tier_stats>(stats_atom::value);
  EXPECT_GE(stats->timeouts, 1u);
  EXPECT_GE(stats->reconnects, 1u);
}

TEST_F(MemcachedTier, FailsFastWhileDownAndReconnects) {
  start(quick());
  ASSERT_TRUE(eventually([&] { return static_cast<bool>(put("k", "v")); }));
  server.kill();
  EXPECT_TRUE(eventually([&] {
    auto res = put("k", "v");
    return !res && is(res.error(), errc::backend_unavailable);
  }));
  auto begin = std::chrono::steady_clock::now();
  EXPECT_FALSE(put("k", "v"));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 100ms);
  auto health = ask<tier_health>(health_atom::value);
  ASSERT_TRUE(health);
  EXPECT_FALSE(health->ok);
  EXPECT_NE(health->detail.find(std::to_string(server.port())), std::string::npos);
  ASSERT_TRUE(server.restart()) << server.error();
  EXPECT_TRUE(eventually([&] { return static_cast<bool>(put("k", "again")); }));
  EXPECT_EQ(server.command("mg k v\r\n"), "VA 5\r\nagain\r\n");
  EXPECT_TRUE(ask<tier_health>(health_atom::value)->ok);
}

TEST_F(MemcachedTier, BadUrlsAndPrefixesAreRejected) {
  memcached_tier_config cfg;
  for (auto url : {"redis://127.0.0.1", "memcache://", "memcache://h:0", "memcache://u:p@h",
                   "memcache://h?timeout=1", "memcache://h,memcache://h:11211"}) {
    cfg.url = url;
    auto spawned = spawn_memcached_tier(sys, cfg, 2);
    ASSERT_FALSE(spawned) << url;
    EXPECT_TRUE(is(spawned.error(), errc::invalid_url)) << url;
  }
  cfg.url = server.url();
  cfg.key_prefix = std::string(129, 'p');
  auto spawned = spawn_memcached_tier(sys, cfg, 2);
  ASSERT_FALSE(spawned);
  EXPECT_TRUE(is(spawned.error(), errc::invalid_config));
}

TEST_F(MemcachedTier, MemcachedUrlEnvironmentVariableIsTheDefault) {
  setenv("MEMCACHED_URL", server.url().c_str(), 1);
  memcached_tier_config cfg = quick();
  auto spawned = spawn_memcached_tier(sys, cfg, 2);
  unsetenv("MEMCACHED_URL");
  ASSERT_TRUE(spawned) << sys.render(spawned.error());
  tier = *spawned;
  EXPECT_TRUE(eventually([&] { return static_cast<bool>(put("env", "v")); }));
  EXPECT_EQ(server.command("mg env v\r\n"), "VA 1\r\nv\r\n");
}

// Several servers: every key lives where ketama puts it, batches split and merge, and a
// server that is down fails only its own keys.
TEST_F(MemcachedTier, SeveralServersPlaceKeysByKetama) {
  mtcache::testing::memcached_server second;
  mtcache::testing::memcached_server third;
  ASSERT_TRUE(second.start()) << second.error();
  ASSERT_TRUE(third.start()) << third.error();
  std::vector<mtcache::testing::memcached_server*> all{&server, &second, &third};
  auto cfg = quick();
  cfg.url =
      server.url() + "," + second.url() + ",memcache://127.0.0.1:" + std::to_string(third.port());
  start(cfg);
  std::vector<memcached_server> names;
  for (auto* s : all)
    names.push_back({"127.0.0.1", s->port()});
  detail::ketama_ring ring{names};
  ASSERT_TRUE(eventually([&] {
    auto h = ask<tier_health>(health_atom::value);
    return h && h->ok;
  }));
  std::vector<tier_write> writes;
  std::vector<std::string> keys;
  for (int i = 0; i < 90; ++i) {
    keys.push_back("key:" + std::to_string(i));
    writes.push_back({keys.back(), bytes{std::to_string(i)}, {}});
  }
  auto res = ask<std::vector<caf::error>>(put_atom::value, writes);
  ASSERT_TRUE(res) << sys.render(res.error());
  std::vector<int> per_server(3);
  for (int i = 0; i < 90; ++i) {
    EXPECT_FALSE((*res)[i]);
    auto owner = ring.server_of(keys[i]);
    ++per_server[owner];
    EXPECT_EQ(all[owner]->command("mg " + keys[i] + " v\r\n"),
              "VA " + std::to_string(std::to_string(i).size()) + "\r\n" + std::to_string(i) +
                  "\r\n")
        << keys[i];
  }
  for (auto n : per_server)
    EXPECT_GT(n, 10);
  auto read = ask<read_batch>(get_atom::value, keys);
  ASSERT_TRUE(read) << sys.render(read.error());
  for (int i = 0; i < 90; ++i)
    EXPECT_EQ(read->results[i].value.str(), std::to_string(i));
  EXPECT_EQ(*ask<uint64_t>(delete_atom::value, std::vector<std::string>{keys[0], keys[1]}), 2u);
  EXPECT_FALSE(get(keys[0])->found);
  second.kill();
  size_t failed = 0;
  EXPECT_TRUE(eventually([&] {
    auto r = ask<read_batch>(get_atom::value, keys);
    failed = r ? r->failed.size() : 0;
    return failed == static_cast<size_t>(per_server[1]);
  }));
  for (int i = 2; i < 90; ++i) {
    if (ring.server_of(keys[i]) != 1) {
      EXPECT_EQ(get(keys[i])->value.str(), std::to_string(i));
    }
  }
  auto health = ask<tier_health>(health_atom::value);
  ASSERT_TRUE(health);
  EXPECT_FALSE(health->ok);
  EXPECT_NE(health->detail.find("2 of 3 servers up"), std::string::npos) << health->detail;
  auto stats = ask<tier_stats>(stats_atom::value);
  EXPECT_FALSE(stats->connected);
}

} // namespace
