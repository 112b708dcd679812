// The L1 read view as users reach it (runtime/l1_view.hpp): through the blocking client and
// from inside an actor, on an embedded cache in a real actor system.
#include "mtcache/runtime/l1_view.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "support/actor_system_fixture.hpp"

using namespace mtcache;
using namespace std::chrono_literals;

namespace {

class L1View : public mtcache::testing::actor_system_fixture {
protected:
  void start(cache_config cfg = cache_config::embedded()) {
    auto spawned = spawn_cache(sys, cfg);
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    cache = *spawned;
    client = std::make_unique<blocking_cache>(sys, cache, 10s);
    view = find_l1_view(sys, cache);
  }

  void TearDown() override {
    client.reset();
    view = l1_view{};
    if (cache)
      stop_cache(cache);
  }

  void set(const std::string& key, const std::string& value, strategy ttl = strategy::long_term()) {
    ASSERT_TRUE(client->set(key, bytes{value}, ttl));
  }

  std::string value_in_view(const std::string& key) {
    auto hit = view.get(key);
    return hit ? hit->value.str() : "-";
  }

  cache_actor cache;
  std::unique_ptr<blocking_cache> client;
  l1_view view;
};

} // namespace

TEST_F(L1View, AnAcknowledgedChangeIsWhatTheViewReadsNext) {
  start();
  ASSERT_TRUE(view);
  EXPECT_EQ(value_in_view("a"), "-");
  set("a", "1");
  EXPECT_EQ(value_in_view("a"), "1");
  set("a", "2");
  EXPECT_EQ(value_in_view("a"), "2");
  ASSERT_TRUE(client->remove("a"));
  EXPECT_EQ(value_in_view("a"), "-");
  set("user:1", "x");
  set("user:2", "y");
  ASSERT_TRUE(client->remove_matching("user:*"));
  EXPECT_EQ(value_in_view("user:1"), "-");
  EXPECT_EQ(value_in_view("user:2"), "-");
}

TEST_F(L1View, HitsCarryTheTierLevelAndRemainingTtl) {
  start();
  set("a", "1", strategy::short_term());
  auto hit = view.get("a");
  ASSERT_TRUE(hit);
  EXPECT_TRUE(hit->found);
  EXPECT_EQ(hit->level, cache_config::embedded().tiers[0].placement.level);
  EXPECT_GT(hit->ttl_ms, 0);
  auto through_cache = client->call<lookup>(get_atom::value, std::string{"a"});
  ASSERT_TRUE(through_cache);
  EXPECT_LE(hit->ttl_ms - through_cache->ttl_ms, 1000);
}

TEST_F(L1View, StatsCountViewHitsExactly) {
  start();
  set("a", "1");
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(client->get("a"));
  ASSERT_TRUE(client->get("missing"));
  auto stats = client->stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->requests, 101u);
  EXPECT_EQ(stats->tier_hits[0], 100u);
  EXPECT_EQ(stats->misses, 1u);
  auto tiers = client->tiers();
  ASSERT_TRUE(tiers);
  EXPECT_EQ(tiers->front().hits, 100u);
  EXPECT_EQ(tiers->front().misses, 1u);
}

TEST_F(L1View, ThePolicySeesReadsServedByTheView) {
  cache_config cfg;
  memory_tier_config mem;
  mem.max_entries = 2;
  mem.eviction = eviction_kind::lru;
  cfg.add_memory_tier(tier_config::at_level(1), mem);
  start(cfg);
  set("a", "1");
  set("b", "2");
  ASSERT_EQ(value_in_view("a"), "1"); // "b" is now the least recently used
  set("c", "3");
  EXPECT_EQ(value_in_view("a"), "1");
  EXPECT_EQ(value_in_view("b"), "-");
  EXPECT_EQ(value_in_view("c"), "3");
}

TEST_F(L1View, GetLocalFirstAnswersHitsAtOnceAndMissesThroughTheCache) {
  start();
  set("a", "1");
  auto answers = std::make_shared<std::vector<std::string>>();
  caf::scoped_actor waiter{sys};
  auto w = caf::actor_cast<caf::actor>(waiter);
  auto c = cache;
  auto v = view;
  sys.spawn([=](caf::event_based_actor* self) {
    get_local_first(self, c, v, "a", 5s, [=](caf::expected<lookup> res) {
      // A hit arrives before get_local_first returns.
      answers->push_back(res && res->found ? res->value.str() : "?");
    });
    answers->push_back("returned");
    get_local_first(self, c, v, "b", 5s, [=](caf::expected<lookup> res) {
      answers->push_back(res ? (res->found ? "found" : "miss") : "error");
      self->send(w, ok_atom::value);
      self->quit();
    });
  });
  waiter->receive([](ok_atom) {}, caf::after(10s) >> [] { ADD_FAILURE() << "no answer"; });
  EXPECT_EQ(*answers, (std::vector<std::string>{"1", "returned", "miss"}));
}

TEST_F(L1View, AStoppedCacheLeavesAnEmptyView) {
  start();
  set("a", "1");
  stop_cache(cache);
  cache = nullptr;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (view.get("a") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_FALSE(view.get("a"));
}

TEST_F(L1View, AnEmptyViewMissesEverything) {
  l1_view none;
  EXPECT_FALSE(none);
  EXPECT_FALSE(none.get("a"));
}
