#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/actors/memory_tier.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/message_types.hpp"

using namespace mtcache;
using namespace std::chrono_literals;

namespace {

// Answers a delegated miss so a test can see where the original request ended up.
miss_route::behavior_type echo_route(miss_route::pointer) {
  return {
      [](miss_atom, const std::string& key, bool, const caf::message& context) {
        auto text = "routed:" + key;
        if (context.match_elements<std::string>())
          text += ":" + context.get_as<std::string>(0);
        return lookup{true, bytes{text}, -1, 99, false};
      },
  };
}

// Runs the tier on the deterministic test scheduler, so expiry follows virtual time.
class MemoryTier : public ::testing::Test {
protected:
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    add_message_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    return cfg;
  }

  void TearDown() override {
    caf::anon_send_exit(tier, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void start(memory_tier_config cfg = {}) {
    tier = spawn_memory_tier(sys, cfg, 1);
    sched.run();
  }

  template <class R, class... Ts>
  caf::expected<R> ask(Ts... xs) {
    self->send(tier, xs...);
    sched.run();
    caf::expected<R> out{caf::error{}};
    self->receive([&](R& x) { out = std::move(x); }, [&](caf::error& err) { out = std::move(err); },
                  caf::after(std::chrono::seconds{0}) >> [&] { ADD_FAILURE() << "no reply"; });
    return out;
  }

  void put(const std::string& key, const std::string& value, caf::timespan ttl = {}) {
    ASSERT_TRUE(ask<ok_atom>(put_atom::value, key, bytes{value}, ttl));
  }

  lookup get(const std::string& key) { return *ask<lookup>(get_atom::value, key); }

  tier_stats stats() { return *ask<tier_stats>(stats_atom::value); }

  void advance(caf::timespan t) {
    sched.advance_time(t);
    sched.run();
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{init(cfg)};
  caf::scheduler::test_coordinator& sched =
      dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys, true};
  batch_tier_actor tier;
};

TEST_F(MemoryTier, TtlExpiresOnRead) {
  start();
  put("k", "v", 1s);
  auto hit = get("k");
  ASSERT_TRUE(hit.found);
  EXPECT_EQ(hit.value.view(), "v");
  EXPECT_EQ(hit.ttl_ms, 1000);
  EXPECT_EQ(hit.level, 1u);
  sched.advance_time(400ms);
  EXPECT_EQ(get("k").ttl_ms, 600);
  sched.advance_time(601ms);
  EXPECT_FALSE(get("k").found);
  EXPECT_EQ(stats().expirations, 1u);
}

TEST_F(MemoryTier, BatchedWritesAreStoredAndAnsweredPerWrite) {
  start();
  std::vector<tier_write> writes{{"a", bytes{"1"}, caf::timespan{1s}},
                                 {"b", bytes{"2"}, caf::timespan{0}},
                                 {"a", bytes{"3"}, caf::timespan{2s}}};
  auto res = ask<std::vector<caf::error>>(put_atom::value, writes);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->size(), 3u);
  for (auto& err : *res)
    EXPECT_FALSE(err);
  // In order: the later write of "a" wins, with its own TTL.
  EXPECT_EQ(get("a").value.view(), "3");
  EXPECT_EQ(get("a").ttl_ms, 2000);
  EXPECT_EQ(get("b").ttl_ms, -1);
  EXPECT_EQ(stats().writes, 3u);
}

TEST_F(MemoryTier, SubMillisecondTtlStillExpires) {
  start();
  put("k", "v", 300us);
  EXPECT_TRUE(get("k").found);
  sched.advance_time(2ms);
  EXPECT_FALSE(get("k").found);
}

TEST_F(MemoryTier, SweepDropsExpiredEntriesWithoutReads) {
  memory_tier_config c;
  c.sweep_interval = 500ms;
  start(c);
  for (int i = 0; i < 10; ++i)
    put("k" + std::to_string(i), "v", 100ms);
  put("keep", "v");
  EXPECT_EQ(stats().size, 11u);
  advance(500ms);
  auto s = stats();
  EXPECT_EQ(s.size, 1u);
  EXPECT_EQ(s.expirations, 10u);
}

TEST_F(MemoryTier, TimeToIdleIsRefreshedByReads) {
  memory_tier_config c;
  c.time_to_idle = 500ms;
  start(c);
  put("k", "v");
  sched.advance_time(400ms);
  EXPECT_TRUE(get("k").found);
  sched.advance_time(400ms);
  EXPECT_TRUE(get("k").found);
  sched.advance_time(501ms);
  EXPECT_FALSE(get("k").found);
}

TEST_F(MemoryTier, ProbeDelegatesMissesToTheRoute) {
  start();
  put("here", "v");
  auto route = sys.spawn(echo_route);
  auto hit = ask<lookup>(get_atom::value, std::string{"here"}, miss_route{route},
                         caf::make_message(std::string{"ctx"}));
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->value.view(), "v");
  auto miss = ask<lookup>(get_atom::value, std::string{"gone"}, miss_route{route},
                          caf::make_message(std::string{"ctx"}));
  ASSERT_TRUE(miss);
  EXPECT_EQ(miss->value.view(), "routed:gone:ctx");
  EXPECT_EQ(miss->level, 99u);
  caf::anon_send_exit(route, caf::exit_reason::user_shutdown);
}

TEST_F(MemoryTier, PatternRemovalMatchesLocalKeysOnly) {
  start();
  for (auto key : {"user:1", "user:2", "user:10", "order:1"})
    put(key, "v");
  auto removed = ask<uint64_t>(delete_atom::value, match_atom::value, std::string{"user:[12]"});
  ASSERT_TRUE(removed);
  EXPECT_EQ(*removed, 2u);
  EXPECT_TRUE(get("user:10").found);
  EXPECT_TRUE(get("order:1").found);
  auto too_long = ask<uint64_t>(delete_atom::value, match_atom::value, std::string(5000, '*'));
  ASSERT_FALSE(too_long);
  EXPECT_TRUE(is(too_long.error(), errc::invalid_pattern));
}

TEST_F(MemoryTier, BulkDeleteClearAndExists) {
  start();
  put("a", "1");
  put("b", "2");
  put("c", "3");
  EXPECT_TRUE(*ask<bool>(exists_atom::value, std::string{"a"}));
  std::vector<std::string> keys{"a", "b", "zzz"};
  EXPECT_EQ(*ask<uint64_t>(delete_atom::value, keys), 2u);
  EXPECT_FALSE(*ask<bool>(exists_atom::value, std::string{"a"}));
  EXPECT_EQ(*ask<uint64_t>(clear_atom::value), 1u);
  EXPECT_EQ(stats().size, 0u);
}

TEST_F(MemoryTier, BoundedByEntriesAndByWeight) {
  memory_tier_config c;
  c.max_entries = 100;
  start(c);
  for (int i = 0; i < 300; ++i)
    put("k" + std::to_string(i), "v");
  auto s = stats();
  EXPECT_LE(s.size, 100u);
  EXPECT_GE(s.evictions, 200u);
  caf::anon_send_exit(tier, caf::exit_reason::user_shutdown);
  sched.run();
  memory_tier_config w;
  w.max_entries = 1000;
  w.max_weight = 2000;
  start(w);
  for (int i = 0; i < 100; ++i)
    put("w" + std::to_string(i), std::string(98, 'x'));
  s = stats();
  EXPECT_LE(s.weight, 2000u);
  EXPECT_LE(s.size, 20u);
  EXPECT_GT(s.size, 0u);
}

TEST_F(MemoryTier, FailSafeWindowKeepsExpiredValuesForStaleReads) {
  memory_tier_config c;
  c.fail_safe_window = 1s;
  start(c);
  put("k", "v", 100ms);
  sched.advance_time(200ms);
  EXPECT_FALSE(get("k").found);
  auto stale = ask<lookup>(get_atom::value, stale_atom::value, std::string{"k"});
  ASSERT_TRUE(stale);
  EXPECT_TRUE(stale->found);
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(stale->value.view(), "v");
  sched.advance_time(2s);
  EXPECT_FALSE(ask<lookup>(get_atom::value, stale_atom::value, std::string{"k"})->found);
}

TEST_F(MemoryTier, CountsHitsMissesAndWeight) {
  start();
  put("k", "value");
  get("k");
  get("k");
  get("nope");
  auto s = stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.size, 1u);
  EXPECT_EQ(s.weight, 6u);
  EXPECT_EQ(s.writes, 1u);
  EXPECT_EQ(s.kind, "memory");
  auto h = ask<tier_health>(health_atom::value);
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->ok);
}

} // namespace
