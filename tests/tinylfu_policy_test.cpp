#include "mtcache/store/tinylfu_policy.hpp"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "support/policy_replay.hpp"

using mtcache::detail::extent;
using mtcache::detail::tinylfu_options;
using mtcache::detail::tinylfu_policy;
using queue = tinylfu_policy::queue;
using mtcache::test::replay;

namespace {

constexpr uint64_t unbounded = UINT64_MAX;

tinylfu_options fixed_window() {
  tinylfu_options options;
  options.adaptive = false;
  return options;
}

// Fills a policy of `n` entries with ids 0..n-1 (hash = id, weight = 1).
void fill(tinylfu_policy& policy, uint32_t n) {
  std::vector<uint32_t> victims;
  for (uint32_t id = 0; id < n; ++id)
    policy.insert(id, id, 1, victims);
  ASSERT_TRUE(victims.empty());
}

void count(tinylfu_policy& policy, uint32_t hash, int times) {
  for (int i = 0; i < times; ++i)
    policy.record_miss(hash);
}

} // namespace

TEST(TinylfuPolicy, StartsWithCaffeinesProportions) {
  tinylfu_policy policy{extent{1000, unbounded}};
  EXPECT_EQ(policy.window_limit().entries, 10u);
  EXPECT_EQ(policy.protected_limit().entries, 792u);
  EXPECT_EQ(policy.window_limit().weight, unbounded);
  tinylfu_policy tiny{extent{1, unbounded}};
  EXPECT_EQ(tiny.window_limit().entries, 1u);
}

TEST(TinylfuPolicy, WindowOverflowMovesToProbation) {
  tinylfu_policy policy{extent{100, unbounded}, fixed_window()};
  fill(policy, 2);
  EXPECT_EQ(policy.queue_of(0), queue::probation);
  EXPECT_EQ(policy.queue_of(1), queue::window);
  EXPECT_EQ(policy.held_in(queue::window).entries, 1u);
}

TEST(TinylfuPolicy, ProbationHitMovesToProtected) {
  tinylfu_policy policy{extent{100, unbounded}, fixed_window()};
  fill(policy, 3);
  policy.record_access(0);
  EXPECT_EQ(policy.queue_of(0), queue::protected_main);
  policy.record_access(2); // a window hit stays in the window
  EXPECT_EQ(policy.queue_of(2), queue::window);
}

TEST(TinylfuPolicy, ProtectedOverflowIsDemotedToProbation) {
  tinylfu_policy policy{extent{10, unbounded}, fixed_window()};
  ASSERT_EQ(policy.protected_limit().entries, 7u);
  fill(policy, 10);
  for (uint32_t id = 0; id < 8; ++id)
    policy.record_access(id);
  EXPECT_EQ(policy.held_in(queue::protected_main).entries, 7u);
  EXPECT_EQ(policy.queue_of(0), queue::probation); // the least recent protected entry
  EXPECT_EQ(policy.queue_of(7), queue::protected_main);
}

TEST(TinylfuPolicy, FrequentCandidateIsAdmitted) {
  tinylfu_policy policy{extent{10, unbounded}, fixed_window()};
  fill(policy, 10);
  count(policy, 9, 3); // the window's entry, next candidate
  std::vector<uint32_t> victims;
  policy.insert(10, 10, 1, victims);
  EXPECT_EQ(victims, (std::vector<uint32_t>{0})); // probation's least recent entry
  EXPECT_EQ(policy.queue_of(9), queue::probation);
  EXPECT_EQ(policy.queue_of(10), queue::window);
}

TEST(TinylfuPolicy, RareCandidateIsRejected) {
  tinylfu_policy policy{extent{10, unbounded}, fixed_window()};
  fill(policy, 10);
  count(policy, 0, 2);
  count(policy, 9, 1);
  std::vector<uint32_t> victims;
  policy.insert(10, 10, 1, victims);
  EXPECT_EQ(victims, (std::vector<uint32_t>{9}));
  EXPECT_EQ(policy.queue_of(0), queue::probation);
}

TEST(TinylfuPolicy, TieKeepsTheVictim) {
  tinylfu_policy policy{extent{10, unbounded}, fixed_window()};
  fill(policy, 10);
  count(policy, 0, 2);
  count(policy, 9, 2);
  std::vector<uint32_t> victims;
  policy.insert(10, 10, 1, victims);
  EXPECT_EQ(victims, (std::vector<uint32_t>{9}));
}

// Regression: on a loop longer than the cache the candidate, just requested, led the
// victim, the next key to come round, by one count, and swapping them every time kept a
// loop of 5 000 at capacity 2 500 at 0.433 of hits instead of Caffeine's 0.491.
TEST(TinylfuPolicy, CandidateLeadingByOneKeepsTheVictim) {
  tinylfu_policy policy{extent{10, unbounded}, fixed_window()};
  fill(policy, 10);
  count(policy, 0, 2);
  count(policy, 9, 3);
  std::vector<uint32_t> victims;
  policy.insert(10, 10, 1, victims);
  EXPECT_EQ(victims, (std::vector<uint32_t>{9}));
  EXPECT_EQ(policy.queue_of(0), queue::probation);
}

TEST(TinylfuPolicy, WarmLosingCandidateIsAdmittedOneTimeIn128) {
  // Every entry shares one hash, so every duel is a tie at frequency 7.
  auto admissions = [](uint32_t frequency, uint64_t seed) {
    auto options = fixed_window();
    options.seed = seed;
    tinylfu_policy policy{extent{10, unbounded}, options};
    std::vector<uint32_t> victims;
    for (uint32_t id = 0; id < 10; ++id)
      policy.insert(id, 1, 1, victims);
    count(policy, 1, static_cast<int>(frequency));
    int admitted = 0;
    for (uint32_t id = 10; id < 10 + 12800; ++id) {
      victims.clear();
      auto candidate = id - 1;
      policy.insert(id, 1, 1, victims);
      admitted += victims.size() == 1 && victims[0] != candidate;
    }
    return admitted;
  };
  auto warm = admissions(7, 1);
  EXPECT_GT(warm, 60);
  EXPECT_LT(warm, 150);
  EXPECT_EQ(warm, admissions(7, 1)); // deterministic for a seed
  EXPECT_EQ(admissions(5, 1), 0);    // below the threshold a tie always keeps the victim
}

TEST(TinylfuPolicy, WeightedCandidateMustBeatTheSumOfItsVictims) {
  auto run = [](int candidate_frequency) {
    tinylfu_policy policy{extent{100, 100}, fixed_window()};
    std::vector<uint32_t> victims;
    for (uint32_t id = 0; id < 10; ++id)
      policy.insert(id, id, 10, victims);
    EXPECT_TRUE(victims.empty());
    count(policy, 0, 1);
    count(policy, 1, 1);
    count(policy, 10, candidate_frequency);
    // The window holds less than 10 bytes, so the new entry is its own candidate; it needs
    // 30 bytes, i.e. the three coldest entries of probation (frequencies 1 + 1 + 0), and
    // must lead their sum by more than one.
    policy.insert(10, 10, 30, victims);
    EXPECT_LE(policy.held().weight, 100u);
    return victims;
  };
  EXPECT_EQ(run(4), (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_EQ(run(3), (std::vector<uint32_t>{10}));
}

TEST(TinylfuPolicy, HoldsBothBoundsUnderChurn) {
  tinylfu_policy policy{extent{50, 2000}};
  std::mt19937 rng{5};
  std::vector<bool> resident(400);
  std::vector<uint32_t> victims;
  std::vector<uint32_t> weight(400);
  uint64_t entries = 0;
  uint64_t total = 0;
  for (int step = 0; step < 50000; ++step) {
    auto id = rng() % 400;
    victims.clear();
    if (resident[id]) {
      if (rng() % 4 == 0) {
        policy.remove(id);
        resident[id] = false;
        --entries;
        total -= weight[id];
        continue;
      }
      if (rng() % 3 == 0) {
        total -= weight[id];
        weight[id] = rng() % 200;
        total += weight[id];
        policy.update(id, weight[id], victims);
      } else {
        policy.record_access(id);
      }
    } else {
      policy.record_miss(id);
      weight[id] = rng() % 200;
      resident[id] = true;
      ++entries;
      total += weight[id];
      policy.insert(id, id, weight[id], victims);
    }
    for (auto v : victims) {
      ASSERT_TRUE(resident[v]);
      resident[v] = false;
      --entries;
      total -= weight[v];
    }
    ASSERT_EQ(policy.held().entries, entries);
    ASSERT_EQ(policy.held().weight, total);
    ASSERT_LE(entries, 50u);
    ASSERT_LE(total, 2000u);
  }
}

TEST(TinylfuPolicy, RemoveAndClearForget) {
  tinylfu_policy policy{extent{10, unbounded}, fixed_window()};
  fill(policy, 5);
  policy.remove(4);
  policy.remove(0);
  policy.remove(0);
  EXPECT_EQ(policy.queue_of(0), queue::none);
  EXPECT_EQ(policy.held().entries, 3u);
  policy.clear();
  EXPECT_EQ(policy.held().entries, 0u);
  EXPECT_EQ(policy.queue_of(1), queue::none);
  fill(policy, 10);
  EXPECT_EQ(policy.held().entries, 10u);
}

TEST(TinylfuPolicy, ResistsScans) {
  // A hot set of 50 keys read over and over, interleaved with a scan of one-off keys.
  tinylfu_policy policy{extent{100, unbounded}, fixed_window()};
  std::vector<uint32_t> trace;
  uint32_t next_scan_key = 1000;
  for (int round = 0; round < 200; ++round) {
    for (uint32_t key = 0; key < 50; ++key)
      trace.push_back(key);
    for (int i = 0; i < 200; ++i)
      trace.push_back(next_scan_key++);
  }
  // LRU would keep none of the hot set: every scan flushes it.
  EXPECT_GT(replay(policy, trace), 0.19);
}

namespace {

// Each key is read twice, the second time 1..`gap` requests after the first: recency is
// all there is, and a window that holds `gap` requests' worth of new keys gets every second
// read (LRU of the same size gets 0.5).
std::vector<uint32_t> twice_trace(size_t length, uint32_t gap, uint32_t seed) {
  std::vector<uint32_t> trace;
  std::mt19937 rng{seed};
  std::vector<std::pair<size_t, uint32_t>> pending;
  uint32_t next_key = 0;
  for (size_t i = 0; i < length; ++i) {
    auto due =
        std::find_if(pending.begin(), pending.end(), [i](const auto& p) { return p.first <= i; });
    if (due != pending.end()) {
      trace.push_back(due->second);
      pending.erase(due);
    } else {
      trace.push_back(next_key);
      pending.emplace_back(i + 1 + rng() % gap, next_key++);
    }
  }
  return trace;
}

} // namespace

TEST(TinylfuPolicy, HillClimbingGrowsTheWindowWhenRecencyPays) {
  // At capacity 200 the 1% window holds 2 entries and gets almost nothing.
  tinylfu_policy policy{extent{200, unbounded}};
  auto trace = twice_trace(400000, 60, 9);
  std::vector<uint32_t> first(trace.begin(), trace.begin() + 300000);
  std::vector<uint32_t> last(trace.begin() + 300000, trace.end());
  replay(policy, first);
  EXPECT_GT(policy.window_limit().entries, 30u);
  EXPECT_GT(replay(policy, last), 0.45);
}

TEST(TinylfuPolicy, LargeWindowAgesTheSketchSooner) {
  tinylfu_policy policy{extent{200, unbounded}};
  replay(policy, twice_trace(300000, 60, 9));
  auto window_share = static_cast<double>(policy.window_limit().entries) / 200;
  ASSERT_GT(window_share, 0.15);
  // The main space's share of the usual 10 x capacity, at least a fifth of it.
  auto expected = std::max(1 - window_share, 0.2) * 2000;
  EXPECT_NEAR(static_cast<double>(policy.sketch().sample_size()), expected, 10.0);
}

TEST(TinylfuPolicy, HillClimbingDoesNotShrinkAWindowThatRecencyNeeds) {
  // Regression: Caffeine's climber starts by shrinking the window, here from 20 entries
  // (enough for this trace) to one, and that cost twice@10000 a tenth of its hits.
  tinylfu_policy policy{extent{2000, unbounded}};
  auto trace = twice_trace(200000, 16, 5);
  EXPECT_GT(replay(policy, trace), 0.49);
  EXPECT_GE(policy.window_limit().entries, 20u);
}

TEST(TinylfuPolicy, HillClimbingKeepsTheWindowSmallForFrequency) {
  tinylfu_policy policy{extent{200, unbounded}};
  std::vector<uint32_t> trace;
  std::mt19937 rng{11};
  // Zipf-like: key = floor(exp(u * ln(20000))), heavily skewed towards small keys.
  for (int i = 0; i < 300000; ++i) {
    auto u = std::uniform_real_distribution<double>{0, 1}(rng);
    trace.push_back(static_cast<uint32_t>(std::exp(u * std::log(20000.0))));
  }
  replay(policy, trace);
  EXPECT_LE(policy.window_limit().entries, 4u); // started at 2 (1%)
}
