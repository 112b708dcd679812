#include "mtcache/store/memory_store.hpp"

#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

// Counts every heap allocation of this test binary.
size_t allocations = 0;

} // namespace

void* operator new(size_t size) {
  ++allocations;
  if (auto* p = std::malloc(size == 0 ? 1 : size))
    return p;
  throw std::bad_alloc{};
}

void operator delete(void* p) noexcept {
  std::free(p);
}

void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

using mtcache::bytes;
using mtcache::eviction_kind;
using mtcache::memory_tier_config;
using mtcache::detail::memory_store;
using namespace std::chrono_literals;

namespace {

memory_tier_config lru_config(uint64_t max_entries, uint64_t max_weight = 0) {
  memory_tier_config cfg;
  cfg.max_entries = max_entries;
  cfg.max_weight = max_weight;
  cfg.eviction = eviction_kind::lru;
  return cfg;
}

std::string value_of(const std::optional<memory_store::found>& x) {
  return x ? x->value.str() : "<none>";
}

} // namespace

TEST(MemoryStore, PutThenGet) {
  memory_store store{lru_config(10)};
  EXPECT_TRUE(store.put("k", bytes{"v"}, 0, 0));
  auto x = store.get("k", 1);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->value.str(), "v");
  EXPECT_EQ(x->ttl_ms, -1);
  EXPECT_FALSE(store.get("other", 1));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.weight(), 2u);
}

TEST(MemoryStore, TtlExpiresLazilyOnGet) {
  memory_store store{lru_config(10)};
  store.put("k", bytes{"v"}, 100, 1000);
  auto x = store.get("k", 1099);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->ttl_ms, 1);
  EXPECT_TRUE(store.contains("k", 1099));
  EXPECT_FALSE(store.contains("k", 1100));
  EXPECT_FALSE(store.get("k", 1100));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.weight(), 0u);
  EXPECT_EQ(store.counters().expirations, 1u);
  EXPECT_EQ(store.counters().hits, 1u);
  EXPECT_EQ(store.counters().misses, 1u);
}

TEST(MemoryStore, NonPositiveTtlNeverExpires) {
  memory_store store{lru_config(10)};
  store.put("a", bytes{"v"}, 0, 0);
  store.put("b", bytes{"v"}, -5, 0);
  EXPECT_EQ(store.expire(int64_t{400} * 24 * 3600 * 1000), 0u);
  EXPECT_TRUE(store.get("a", int64_t{400} * 24 * 3600 * 1000));
  EXPECT_TRUE(store.contains("b", int64_t{400} * 24 * 3600 * 1000));
}

TEST(MemoryStore, ExpireRemovesEverythingDue) {
  memory_store store{lru_config(100)};
  for (int i = 0; i < 10; ++i)
    store.put("k" + std::to_string(i), bytes{"v"}, 100 + i * 1000, 0);
  EXPECT_EQ(store.expire(99), 0u);
  EXPECT_EQ(store.expire(100), 1u);
  EXPECT_EQ(store.expire(3100), 3u);
  EXPECT_EQ(store.size(), 6u);
  EXPECT_EQ(store.expire(int64_t{1} << 40), 6u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.counters().expirations, 10u);
}

TEST(MemoryStore, TimeToIdleExpiresUnreadEntries) {
  auto cfg = lru_config(10);
  cfg.time_to_idle = 50ms;
  memory_store store{cfg};
  store.put("read", bytes{"v"}, 0, 0);
  store.put("unread", bytes{"v"}, 0, 0);
  EXPECT_TRUE(store.get("read", 40));
  EXPECT_EQ(store.expire(50), 1u);
  EXPECT_FALSE(store.contains("unread", 50));
  EXPECT_TRUE(store.contains("read", 89));
  EXPECT_TRUE(store.get("read", 89)); // refreshed again
  EXPECT_TRUE(store.contains("read", 138));
  EXPECT_FALSE(store.get("read", 139));
}

TEST(MemoryStore, TimeToIdleNeverExtendsPastTtl) {
  auto cfg = lru_config(10);
  cfg.time_to_idle = 50ms;
  memory_store store{cfg};
  store.put("k", bytes{"v"}, 70, 0);
  auto x = store.get("k", 40);
  ASSERT_TRUE(x);
  EXPECT_EQ(x->ttl_ms, 30); // the TTL, not the idle deadline
  EXPECT_EQ(store.expire(69), 0u);
  EXPECT_EQ(store.expire(70), 1u);
  EXPECT_EQ(store.counters().idle_expirations, 0u); // the TTL ran out, not the idle time
}

TEST(MemoryStore, IdleExpirationsAreToldApartFromTtlExpirations) {
  auto cfg = lru_config(10);
  cfg.time_to_idle = 50ms;
  memory_store store{cfg};
  store.put("idle", bytes{"v"}, 1000, 0);
  store.put("ttl", bytes{"v"}, 30, 0);
  store.put("forever", bytes{"v"}, 0, 0);
  EXPECT_EQ(store.expire(30), 1u);
  EXPECT_EQ(store.counters().idle_expirations, 0u);
  EXPECT_EQ(store.expire(50), 2u);
  EXPECT_EQ(store.counters().expirations, 3u);
  EXPECT_EQ(store.counters().idle_expirations, 2u);
  // Lazy expiry on a read counts the same way.
  store.put("lazy", bytes{"v"}, 0, 100);
  EXPECT_FALSE(store.get("lazy", 150));
  EXPECT_EQ(store.counters().idle_expirations, 3u);
}

TEST(MemoryStore, FailSafeKeepsExpiredValueForGetStale) {
  auto cfg = lru_config(10);
  cfg.fail_safe_window = 1000ms;
  memory_store store{cfg};
  store.put("k", bytes{"v"}, 100, 0);
  EXPECT_FALSE(store.get_stale("k", 50)); // still live
  EXPECT_FALSE(store.get("k", 100));
  EXPECT_FALSE(store.contains("k", 100));
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(value_of(store.get_stale("k", 100)), "v");
  EXPECT_EQ(value_of(store.get_stale("k", 1099)), "v");
  EXPECT_EQ(store.expire(1099), 0u);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_FALSE(store.get_stale("k", 1100));
  store.expire(1100);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.counters().expirations, 1u);
}

TEST(MemoryStore, FailSafeWindowFoundBySweep) {
  auto cfg = lru_config(10);
  cfg.fail_safe_window = 1000ms;
  memory_store store{cfg};
  store.put("k", bytes{"v"}, 100, 0);
  EXPECT_EQ(store.expire(500), 1u); // expired, kept as stale
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(value_of(store.get_stale("k", 600)), "v");
  EXPECT_FALSE(store.remove("k")); // expired entries count as absent
  EXPECT_EQ(store.size(), 0u);
}

TEST(MemoryStore, WithoutWindowExpiredEntryIsGone) {
  memory_store store{lru_config(10)};
  store.put("k", bytes{"v"}, 100, 0);
  EXPECT_FALSE(store.get_stale("k", 100));
  store.expire(100);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(store.get_stale("k", 100));
}

TEST(MemoryStore, StaleEntriesGoFirstUnderCapacityPressure) {
  auto cfg = lru_config(3);
  cfg.fail_safe_window = 10000ms;
  memory_store store{cfg};
  store.put("old", bytes{"v"}, 0, 0);
  store.put("short", bytes{"v"}, 10, 0);
  store.put("b", bytes{"v"}, 0, 0);
  store.expire(20);
  EXPECT_EQ(store.size(), 3u);
  store.put("c", bytes{"v"}, 0, 30);
  EXPECT_FALSE(store.get_stale("short", 30));
  EXPECT_TRUE(store.contains("old", 30)); // the least recent live entry survived
  EXPECT_EQ(store.size(), 3u);
  EXPECT_EQ(store.counters().evictions, 0u);
}

TEST(MemoryStore, OverwriteRevivesStaleEntry) {
  auto cfg = lru_config(10);
  cfg.fail_safe_window = 1000ms;
  memory_store store{cfg};
  store.put("k", bytes{"old"}, 10, 0);
  store.expire(20);
  store.put("k", bytes{"new"}, 100, 30);
  EXPECT_EQ(value_of(store.get("k", 40)), "new");
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.expire(130), 1u);
}

TEST(MemoryStore, ExpiredEntriesGoBeforeLiveOnesAreEvicted) {
  memory_store store{lru_config(3)};
  store.put("a", bytes{"v"}, 0, 0);
  store.put("b", bytes{"v"}, 0, 0);
  store.put("short", bytes{"v"}, 100, 0);
  store.get("short", 10); // the most recent, yet expired by the next put
  store.put("c", bytes{"v"}, 0, 150);
  EXPECT_TRUE(store.contains("a", 150));
  EXPECT_TRUE(store.contains("b", 150));
  EXPECT_TRUE(store.contains("c", 150));
  EXPECT_EQ(store.counters().evictions, 0u);
  EXPECT_EQ(store.counters().expirations, 1u);
}

TEST(MemoryStore, EvictsLeastRecentlyUsedWithLru) {
  memory_store store{lru_config(2)};
  store.put("a", bytes{"v"}, 0, 0);
  store.put("b", bytes{"v"}, 0, 0);
  store.get("a", 1);
  EXPECT_TRUE(store.contains("b", 1)); // does not touch the order
  store.put("c", bytes{"v"}, 0, 2);
  EXPECT_TRUE(store.contains("a", 2));
  EXPECT_FALSE(store.contains("b", 2));
  EXPECT_EQ(store.counters().evictions, 1u);
}

TEST(MemoryStore, HoldsBothBounds) {
  memory_store store{lru_config(4, 100)};
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(store.put("k" + std::to_string(i), bytes{std::string(8, 'x')}, 0, 0));
  EXPECT_EQ(store.size(), 4u);
  EXPECT_EQ(store.weight(), 40u);
  store.put("big", bytes{std::string(68, 'x')}, 0, 0); // 71: only two small ones fit with it
  EXPECT_EQ(store.weight(), 91u);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.contains("k0", 0));
  EXPECT_FALSE(store.contains("k1", 0));
  EXPECT_EQ(store.counters().evictions, 2u);
}

TEST(MemoryStore, EntryHeavierThanMaxWeightIsNotKept) {
  memory_store store{lru_config(10, 50)};
  store.put("k", bytes{"small"}, 0, 0);
  EXPECT_FALSE(store.put("k", bytes{std::string(60, 'x')}, 0, 0));
  EXPECT_FALSE(store.contains("k", 0)); // the old value does not survive the write
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.weight(), 0u);
}

TEST(MemoryStore, OverwriteKeepsWeightRight) {
  memory_store store{lru_config(10, 1000)};
  store.put("key", bytes{std::string(100, 'x')}, 0, 0);
  store.put("key", bytes{std::string(10, 'x')}, 0, 0);
  EXPECT_EQ(store.weight(), 13u);
  EXPECT_EQ(store.size(), 1u);
  store.put("key", bytes{std::string(500, 'x')}, 0, 0);
  EXPECT_EQ(store.weight(), 503u);
  store.remove("key");
  EXPECT_EQ(store.weight(), 0u);
}

TEST(MemoryStore, EmbeddedKeyBlockIsStoredWithoutCopy) {
  memory_store store{lru_config(10)};
  bytes block{"key", "value"};
  store.put("key", block, 0, 0);
  auto x = store.get("key", 0);
  ASSERT_TRUE(x);
  EXPECT_TRUE(x->value.same_block(block));
  EXPECT_EQ(x->value.str(), "value");
}

TEST(MemoryStore, PlainValueIsCopiedOnceWithItsKey) {
  memory_store store{lru_config(10)};
  bytes plain{"value"};
  bytes other_key{"other", "value"};
  store.put("key", plain, 0, 0);
  store.put("key2", other_key, 0, 0);
  auto x = store.get("key", 0);
  auto y = store.get("key2", 0);
  ASSERT_TRUE(x && y);
  EXPECT_FALSE(x->value.same_block(plain));
  EXPECT_EQ(x->value.key(), "key");
  EXPECT_EQ(x->value.str(), "value");
  EXPECT_EQ(y->value.key(), "key2");
  EXPECT_TRUE(x->value.same_block(store.get("key", 1)->value)); // reads share the block
}

TEST(MemoryStore, RemoveIfVisitsEveryKeyOnce) {
  memory_store store{lru_config(100)};
  for (int i = 0; i < 50; ++i)
    store.put("user:" + std::to_string(i), bytes{"v"}, 0, 0);
  for (int i = 0; i < 5; ++i)
    store.put("item:" + std::to_string(i), bytes{"v"}, 0, 0);
  int visits = 0;
  auto removed = store.remove_if([&](std::string_view key) {
    ++visits;
    return key.substr(0, 5) == "user:";
  });
  EXPECT_EQ(visits, 55);
  EXPECT_EQ(removed, 50u);
  EXPECT_EQ(store.size(), 5u);
  EXPECT_TRUE(store.contains("item:3", 0));
}

TEST(MemoryStore, RemoveIfCountsOnlyLiveEntries) {
  auto cfg = lru_config(10);
  cfg.fail_safe_window = 1000ms;
  memory_store store{cfg};
  store.put("a", bytes{"v"}, 0, 0);
  store.put("b", bytes{"v"}, 10, 0);
  store.expire(10);
  EXPECT_EQ(store.remove_if([](std::string_view) { return true; }), 1u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(MemoryStore, RemoveReportsPresence) {
  memory_store store{lru_config(10)};
  store.put("k", bytes{"v"}, 0, 0);
  EXPECT_TRUE(store.remove("k"));
  EXPECT_FALSE(store.remove("k"));
  EXPECT_FALSE(store.get("k", 0));
}

TEST(MemoryStore, ClearRemovesEverything) {
  auto cfg = lru_config(10);
  cfg.fail_safe_window = 1000ms;
  memory_store store{cfg};
  store.put("a", bytes{"v"}, 0, 0);
  store.put("b", bytes{"v"}, 10, 0);
  store.expire(10);
  EXPECT_EQ(store.clear(), 2u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.weight(), 0u);
  EXPECT_FALSE(store.get_stale("b", 11));
  EXPECT_EQ(store.expire(5000), 0u);
  EXPECT_TRUE(store.put("a", bytes{"w"}, 10, 20));
  EXPECT_EQ(value_of(store.get("a", 21)), "w");
}

TEST(MemoryStore, CountersCountHitsMissesEvictionsExpirations) {
  memory_store store{lru_config(1)};
  store.put("a", bytes{"v"}, 0, 0);
  store.get("a", 0);
  store.get("a", 0);
  store.get("zzz", 0);
  store.put("b", bytes{"v"}, 5, 0);
  store.expire(5);
  const auto& c = store.counters();
  EXPECT_EQ(c.hits, 2u);
  EXPECT_EQ(c.misses, 1u);
  EXPECT_EQ(c.evictions, 1u);
  EXPECT_EQ(c.expirations, 1u);
  store.get_stale("a", 6);
  store.contains("b", 6);
  EXPECT_EQ(c.hits + c.misses, 3u);
}

TEST(MemoryStore, ZeroMaxEntriesKeepsNothing) {
  memory_store store{lru_config(0)};
  EXPECT_FALSE(store.put("k", bytes{"v"}, 0, 0));
  EXPECT_EQ(store.size(), 0u);
}

namespace {

// Random puts, gets, removes and sweeps; the bounds must hold after every call and the
// weight must add up.
void churn(const memory_tier_config& cfg) {
  memory_store store{cfg};
  uint64_t state = 1;
  for (int64_t now = 0; now < 20000; ++now) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    auto key = "k" + std::to_string((state >> 33) % 300);
    auto len = static_cast<size_t>((state >> 20) % 120);
    switch ((state >> 50) % 5) {
    case 0:
      store.remove(key);
      break;
    case 1:
      store.get(key, now);
      break;
    case 2:
      store.get_stale(key, now);
      store.expire(now);
      break;
    default:
      store.put(key, bytes{std::string(len, 'x')}, static_cast<int64_t>((state >> 8) % 50), now);
    }
    ASSERT_LE(store.size(), cfg.max_entries);
    ASSERT_LE(store.weight(), cfg.max_weight);
  }
  // Removing every entry one by one must bring the weight back to zero exactly.
  store.remove_if([](std::string_view) { return true; });
  EXPECT_EQ(store.weight(), 0u);
  EXPECT_EQ(store.size(), 0u);
}

} // namespace

TEST(MemoryStore, ChurnKeepsBoundsWithLru) {
  churn(lru_config(64, 4000));
}

TEST(MemoryStore, ChurnKeepsBoundsWithTinyLfuIdleAndFailSafe) {
  auto cfg = lru_config(64, 4000);
  cfg.eviction = eviction_kind::tinylfu;
  cfg.time_to_idle = 30ms;
  cfg.fail_safe_window = 20ms;
  churn(cfg);
}

TEST(MemoryStore, DefaultPolicyKeepsFrequentKeysThroughAScan) {
  auto scan = [](eviction_kind kind) {
    auto cfg = lru_config(100);
    cfg.eviction = kind;
    memory_store store{cfg};
    int64_t now = 0;
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < 50; ++i) {
        auto key = "hot" + std::to_string(i);
        if (!store.get(key, ++now))
          store.put(key, bytes{"v"}, 0, now);
      }
    }
    for (int i = 0; i < 1000; ++i) {
      auto key = "scan" + std::to_string(i);
      if (!store.get(key, ++now))
        store.put(key, bytes{"v"}, 0, now);
    }
    int kept = 0;
    for (int i = 0; i < 50; ++i)
      kept += store.contains("hot" + std::to_string(i), now);
    return kept;
  };
  EXPECT_EQ(memory_tier_config{}.eviction, eviction_kind::tinylfu);
  EXPECT_GE(scan(eviction_kind::tinylfu), 45);
  EXPECT_EQ(scan(eviction_kind::lru), 0);
}

TEST(MemoryStore, GetDoesNotAllocate) {
  auto cfg = lru_config(1000);
  cfg.eviction = eviction_kind::tinylfu;
  cfg.time_to_idle = 100ms;
  cfg.fail_safe_window = 50ms;
  memory_store store{cfg};
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i)
    keys.push_back("key" + std::to_string(i));
  for (int i = 0; i < 1000; ++i)
    store.put(keys[i], bytes{"value"}, i % 2 == 0 ? 20 : 0, 0);
  auto before = allocations;
  for (int64_t now = 1; now < 60; ++now) // hits, misses, lazy expiry into stale and out
    for (const auto& key : keys)
      store.get(key, now * 3);
  EXPECT_EQ(allocations, before);
  EXPECT_GT(store.counters().expirations, 0u);
  EXPECT_GT(store.counters().hits, 0u);
}
