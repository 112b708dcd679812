#include "mtcache/store/read_view.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "mtcache/store/memory_store.hpp"

using mtcache::bytes;
using mtcache::memory_tier_config;
using mtcache::detail::access_record;
using mtcache::detail::memory_store;
using mtcache::detail::read_view;
using namespace std::chrono_literals;

namespace {

constexpr int64_t never = read_view::never;

bytes block(const std::string& key, const std::string& value) {
  return bytes{key, value};
}

// The value and TTL a read returns; "-" on a miss.
std::pair<std::string, int64_t> read(const read_view& view, const std::string& key, int64_t now) {
  std::pair<std::string, int64_t> out{"-", 0};
  view.read(key, now, [&](std::string_view value, const bytes& block, int64_t ttl) {
    EXPECT_EQ(value, block.view());
    out = {std::string{value}, ttl};
  });
  return out;
}

// A store with its view attached, as the memory tier holds them.
struct store_with_view {
  explicit store_with_view(memory_tier_config cfg) : view(cfg.time_to_idle.count(), 1), store(cfg) {
    store.attach(&view);
  }

  void drain() {
    view.accesses().drain([&](const access_record& r) { store.record_read(r); });
    view.reclaim();
  }

  read_view view;
  memory_store store;
};

} // namespace

TEST(ReadView, PublishedValueIsReadWithItsTtl) {
  read_view view{0, 1};
  view.publish(block("a", "1"), 1000, 0, 0);
  view.publish(block("b", "2"), never, 1, 0);
  EXPECT_EQ(read(view, "a", 400), std::make_pair(std::string{"1"}, int64_t{600}));
  EXPECT_EQ(read(view, "b", 400), std::make_pair(std::string{"2"}, int64_t{-1}));
  EXPECT_EQ(read(view, "c", 400).first, "-");
  EXPECT_EQ(view.hits(), 2u);
}

TEST(ReadView, ExpiredEntryIsAMiss) {
  read_view view{0, 1};
  view.publish(block("a", "1"), 1000, 0, 0);
  EXPECT_EQ(read(view, "a", 999).first, "1");
  EXPECT_EQ(read(view, "a", 1000).first, "-");
}

TEST(ReadView, IdleEntryIsAMissAndReadsRestartItsIdleTime) {
  read_view view{100, 1};
  view.publish(block("a", "1"), never, 0, 0);
  view.publish(block("b", "2"), never, 1, 0);
  EXPECT_EQ(read(view, "a", 90).first, "1");
  EXPECT_EQ(read(view, "a", 180).first, "1");
  EXPECT_EQ(read(view, "b", 100).first, "-");
  view.touch("b", 150);
  EXPECT_EQ(read(view, "b", 200).first, "2");
}

TEST(ReadView, PublishReplacesAndWithdrawRemoves) {
  read_view view{0, 1};
  view.publish(block("a", "1"), never, 0, 0);
  view.publish(block("a", "2"), never, 0, 0);
  EXPECT_EQ(read(view, "a", 0).first, "2");
  EXPECT_EQ(view.size(), 1u);
  view.withdraw("a");
  view.withdraw("missing");
  EXPECT_EQ(read(view, "a", 0).first, "-");
  EXPECT_EQ(view.size(), 0u);
}

TEST(ReadView, ManyKeysSurviveRebuildsAndTombstones) {
  read_view view{0, 1};
  for (uint32_t i = 0; i < 5000; ++i)
    view.publish(block("k" + std::to_string(i), std::to_string(i)), never, i, 0);
  for (uint32_t i = 0; i < 5000; i += 2)
    view.withdraw("k" + std::to_string(i));
  for (uint32_t i = 0; i < 5000; i += 4)
    view.publish(block("k" + std::to_string(i), "again"), never, i, 0);
  for (uint32_t i = 0; i < 5000; ++i) {
    auto expected = i % 4 == 0 ? "again" : i % 2 == 0 ? "-" : std::to_string(i);
    ASSERT_EQ(read(view, "k" + std::to_string(i), 0).first, expected) << i;
  }
  view.clear();
  EXPECT_EQ(read(view, "k1", 0).first, "-");
  EXPECT_EQ(view.size(), 0u);
}

TEST(ReadView, HitsAreRecordedForTheOwner) {
  read_view view{0, 1};
  view.publish(block("a", "1"), never, 7, 0);
  read(view, "a", 5);
  read(view, "nope", 5);
  std::vector<access_record> seen;
  view.accesses().drain([&](const access_record& r) { seen.push_back(r); });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].id, 7u);
  EXPECT_EQ(seen[0].hash, read_view::fold(read_view::hash_of("a")));
  EXPECT_EQ(seen[0].time_ms, 5);
}

TEST(ReadView, FollowsTheStoreThroughEvictionExpiryAndClear) {
  memory_tier_config cfg;
  cfg.max_entries = 2;
  cfg.eviction = mtcache::eviction_kind::lru;
  store_with_view s{cfg};
  s.store.put("a", bytes{"1"}, 100, 0);
  s.store.put("b", bytes{"2"}, 0, 0);
  EXPECT_EQ(read(s.view, "a", 10), std::make_pair(std::string{"1"}, int64_t{90}));
  s.drain(); // "a" was read: LRU keeps it and evicts "b"
  s.store.put("c", bytes{"3"}, 0, 20);
  EXPECT_EQ(read(s.view, "b", 20).first, "-");
  EXPECT_EQ(read(s.view, "c", 20).first, "3");
  s.store.expire(100);
  EXPECT_EQ(s.view.size(), 1u);
  s.store.remove("c");
  EXPECT_EQ(read(s.view, "c", 100).first, "-");
  s.store.put("d", bytes{"4"}, 0, 100);
  s.store.clear();
  EXPECT_EQ(read(s.view, "d", 100).first, "-");
}

TEST(ReadView, ReadsItRecordedKeepAnIdleEntryInTheStore) {
  memory_tier_config cfg;
  cfg.time_to_idle = 100ms;
  store_with_view s{cfg};
  s.store.put("a", bytes{"1"}, 0, 0);
  EXPECT_EQ(read(s.view, "a", 80).first, "1");
  s.drain();
  s.store.expire(150);
  EXPECT_EQ(read(s.view, "a", 150).first, "1");
  s.store.expire(180);
  EXPECT_EQ(read(s.view, "a", 200).first, "-"); // idle since 150 in the view
  s.store.expire(260);
  EXPECT_EQ(s.view.size(), 0u);
  EXPECT_EQ(s.store.size(), 0u);
}

TEST(ReadView, AttachPublishesWhatTheStoreHolds) {
  memory_tier_config cfg;
  memory_store store{cfg};
  store.put("a", bytes{"1"}, 0, 0);
  read_view view{0, 1};
  store.attach(&view);
  EXPECT_EQ(read(view, "a", 0).first, "1");
  store.attach(nullptr);
  store.remove("a");
  EXPECT_EQ(read(view, "a", 0).first, "1"); // detached: no longer told
}
