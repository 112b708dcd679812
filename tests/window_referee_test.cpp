#include "mtcache/store/window_referee.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "support/policy_replay.hpp"

#include "mtcache/store/lru_policy.hpp"
#include "mtcache/store/tinylfu_policy.hpp"

using mtcache::detail::extent;
using mtcache::detail::lru_policy;
using mtcache::detail::tinylfu_options;
using mtcache::detail::tinylfu_policy;
using mtcache::detail::window_referee;
using mtcache::test::replay;

namespace {

constexpr uint64_t unbounded = UINT64_MAX;

// Temporal locality as bench/gen_trace --kind recency makes it: 5% new keys, otherwise the
// key of d requests ago with P(d > x) = (x / 100)^-0.5. LRU beats a 1% window by about 0.09
// at capacity 1 000.
std::vector<uint32_t> recency_trace(size_t length, uint32_t seed) {
  std::vector<uint32_t> trace;
  std::mt19937_64 rng{seed};
  std::uniform_real_distribution<double> unit{0, 1};
  uint32_t next_key = 0;
  for (size_t i = 0; i < length; ++i) {
    auto d = static_cast<size_t>(std::min(100 * std::pow(1 - unit(rng), -2.0), 1e9));
    if (i == 0 || unit(rng) < 0.05 || d > i)
      trace.push_back(next_key++);
    else
      trace.push_back(trace[i - std::max<size_t>(d, 1)]);
  }
  return trace;
}

std::vector<uint32_t> loop_trace(size_t length, uint32_t keys) {
  std::vector<uint32_t> trace;
  for (size_t i = 0; i < length; ++i)
    trace.push_back(static_cast<uint32_t>(i % keys));
  return trace;
}

} // namespace

TEST(WindowReferee, SamplesAboutOneKeyInRate) {
  window_referee referee{100000, 0.01, 0.8, 1.0};
  uint64_t sampled = 0;
  for (uint32_t key = 0; key < 1000000; ++key)
    sampled += referee.sampled(key * 2654435761u) ? 1 : 0;
  auto expected = 1000000.0 / static_cast<double>(referee.rate());
  EXPECT_NEAR(static_cast<double>(sampled), expected, expected * 0.05);
}

namespace {

// Blocks of 100 new sampled keys, each block read twice: the LRU replica (250 entries at
// capacity 1 000) hits every second read, the 1% window of the W-TinyLFU replica almost
// none, and the real cache, whose window is at `share`, none at all. Returns the leap.
// Keys are numbered from `first_key`.
double leap_while_lru_hits(window_referee& referee, double share, uint32_t first_key = 0) {
  std::vector<uint32_t> keys;
  for (uint32_t k = first_key; keys.size() < 100000; ++k)
    if (referee.sampled(k * 2654435761u))
      keys.push_back(k * 2654435761u);
  double leap = window_referee::stay;
  for (size_t block = 0; block + 100 <= keys.size() && leap == window_referee::stay; block += 100)
    for (int pass = 0; pass < 2 && leap == window_referee::stay; ++pass)
      for (size_t i = block; i < block + 100 && leap == window_referee::stay; ++i)
        leap = referee.record(keys[i], false, share);
  return leap;
}

} // namespace

TEST(WindowReferee, LeapsWhenLruIsClearlyAhead) {
  window_referee referee{1000, 0.01, 0.8, 1.0};
  EXPECT_DOUBLE_EQ(leap_while_lru_hits(referee, 0.01), 0.8);
  EXPECT_EQ(referee.leaps(), 1u);
}

TEST(WindowReferee, BecomesLruWhenStillBehindAtTheRecencySetting) {
  // Warmed up first: while the replicas fill, the W-TinyLFU one hits as often as LRU's.
  window_referee referee{1000, 0.01, 0.8, 1.0};
  ASSERT_DOUBLE_EQ(leap_while_lru_hits(referee, 0.01), 0.8);
  EXPECT_DOUBLE_EQ(leap_while_lru_hits(referee, 0.8, 1u << 30), 1.0);
  EXPECT_EQ(referee.leaps(), 2u);
}

TEST(WindowReferee, StaysWhileTheCacheKeepsUp) {
  // The real cache hits whenever the LRU replica would: nothing to gain by leaping.
  window_referee referee{1000, 0.01, 0.8, 1.0};
  auto shadow = std::make_unique<lru_policy>(extent{1000, unbounded});
  std::vector<uint32_t> trace = recency_trace(100000, 4);
  std::vector<bool> resident;
  std::vector<uint32_t> victims;
  for (auto key : trace) {
    if (key >= resident.size())
      resident.resize(key + 1);
    bool hit = resident[key];
    if (hit) {
      shadow->record_access(key);
    } else {
      victims.clear();
      shadow->insert(key, key, 1, victims);
      resident[key] = true;
      for (auto v : victims)
        resident[v] = false;
    }
    auto hash = key * 2654435761u;
    if (referee.sampled(hash)) {
      EXPECT_EQ(referee.record(hash, hit, 0.01), window_referee::stay);
    }
  }
}

TEST(WindowReferee, RecencyTraceGrowsTheWindowToLrusHitRatio) {
  auto trace = recency_trace(300000, 7);
  tinylfu_policy policy{extent{1000, unbounded}};
  lru_policy lru{extent{1000, unbounded}};
  tinylfu_options fixed;
  fixed.adaptive = false;
  tinylfu_policy caffeine_like{extent{1000, unbounded}, fixed};
  auto ours = replay(policy, trace);
  auto theirs = replay(lru, trace);
  EXPECT_GT(theirs, replay(caffeine_like, trace) + 0.05); // the trace is recency-biased
  EXPECT_GT(ours, theirs - 0.005);
  EXPECT_GE(policy.window_limit().entries, 500u);
}

TEST(WindowReferee, LeapHalvesTheSketch) {
  // A probe key kept at the counters' top: at the request that makes the window leap its
  // estimate halves (the workload changed, so old counts should fade sooner).
  constexpr uint32_t probe = 0xffff'fff0;
  tinylfu_policy policy{extent{1000, unbounded}};
  auto trace = recency_trace(300000, 7);
  std::vector<bool> resident;
  std::vector<uint32_t> victims;
  bool leapt = false;
  for (size_t i = 0; i < trace.size() && !leapt; ++i) {
    while (policy.sketch().frequency(probe) < 15 && policy.sketch().table_words() > 0)
      policy.record_miss(probe);
    auto before = policy.sketch().frequency(probe);
    auto leaps = policy.referee()->leaps();
    auto key = trace[i];
    if (key >= resident.size())
      resident.resize(key + 1);
    if (resident[key]) {
      policy.record_access(key);
    } else {
      policy.record_miss(key);
      victims.clear();
      policy.insert(key, key, 1, victims);
      resident[key] = true;
      for (auto v : victims)
        resident[v] = false;
    }
    if (policy.referee()->leaps() != leaps) {
      leapt = true;
      EXPECT_EQ(before, 15u);
      EXPECT_EQ(policy.sketch().frequency(probe), 7u);
    }
  }
  EXPECT_TRUE(leapt);
}

TEST(WindowReferee, LoopKeepsTheWindowSmallAndBeatsLru) {
  // A loop twice the cache: LRU never hits; W-TinyLFU keeps most of main resident.
  tinylfu_policy policy{extent{1000, unbounded}};
  auto hits = replay(policy, loop_trace(200000, 2000));
  EXPECT_GT(hits, 0.45);
  EXPECT_LE(policy.window_limit().entries, 40u);
  ASSERT_NE(policy.referee(), nullptr);
  EXPECT_EQ(policy.referee()->leaps(), 0u);
}
