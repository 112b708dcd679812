#include "mtcache/store/frequency_sketch.hpp"

#include <cmath>
#include <random>
#include <unordered_map>

#include <gtest/gtest.h>

using mtcache::detail::frequency_sketch;

TEST(FrequencySketch, IncrementSaturatesAtFifteen) {
  frequency_sketch sketch{1000};
  for (int i = 0; i < 40; ++i)
    sketch.increment(42);
  EXPECT_EQ(sketch.frequency(42), 15u);
}

TEST(FrequencySketch, UnseenKeyEstimatesZero) {
  frequency_sketch sketch{1000};
  sketch.increment(1);
  EXPECT_EQ(sketch.frequency(2), 0u);
}

TEST(FrequencySketch, EstimatesNeverUnderCount) {
  frequency_sketch sketch{512};
  std::unordered_map<uint32_t, uint32_t> truth;
  std::mt19937 rng{3};
  // 2000 increments stay below the 5120 that trigger aging.
  for (int i = 0; i < 2000; ++i) {
    auto key = static_cast<uint32_t>(rng() % 1500);
    sketch.increment(key);
    ++truth[key];
  }
  uint32_t exact = 0;
  for (const auto& [key, count] : truth) {
    auto estimate = sketch.frequency(key);
    ASSERT_GE(estimate, std::min(count, 15u)) << key;
    exact += estimate == std::min(count, 15u);
  }
  // Over-counting comes only from collisions, which are rare at this load.
  EXPECT_GT(exact, truth.size() * 9 / 10);
}

TEST(FrequencySketch, AgingHalvesCounters) {
  frequency_sketch sketch{1000};
  for (int i = 0; i < 15; ++i)
    sketch.increment(7);
  for (int i = 0; i < 10; ++i)
    sketch.increment(8);
  sketch.increment(9);
  sketch.age();
  EXPECT_EQ(sketch.frequency(7), 7u);
  EXPECT_EQ(sketch.frequency(8), 5u);
  EXPECT_EQ(sketch.frequency(9), 0u);
}

TEST(FrequencySketch, AgesAfterTenTimesCapacityIncrements) {
  frequency_sketch sketch{300};
  EXPECT_EQ(sketch.sample_size(), 3000u);
  for (int i = 0; i < 12; ++i)
    sketch.increment(1);
  // 2987 more increments over 300 keys (few collisions in 512 words) reach 2999 additions.
  for (uint32_t i = 0; i < 2987; ++i)
    sketch.increment(1000 + i % 300);
  EXPECT_EQ(sketch.frequency(1), 12u);
  sketch.increment(5000); // the 3000th addition halves everything
  EXPECT_EQ(sketch.frequency(1), 6u);
}

TEST(FrequencySketch, UnsizedSketchCountsNothing) {
  frequency_sketch sketch{0};
  EXPECT_EQ(sketch.table_words(), 0u);
  for (int i = 0; i < 100; ++i)
    sketch.increment(7);
  EXPECT_EQ(sketch.frequency(7), 0u);
  sketch.ensure_capacity(100);
  sketch.increment(7);
  EXPECT_EQ(sketch.frequency(7), 1u);
}

TEST(FrequencySketch, TableIsPowerOfTwoWithAtLeast256Words) {
  EXPECT_EQ(frequency_sketch{100}.table_words(), 256u);
  EXPECT_EQ(frequency_sketch{1000}.table_words(), 1024u);
  EXPECT_EQ(frequency_sketch{1025}.table_words(), 2048u);
}

TEST(FrequencySketch, EnsureCapacityGrowsAndForgets) {
  frequency_sketch sketch{100};
  sketch.increment(5);
  sketch.ensure_capacity(200); // still fits 256 words: counts stay
  EXPECT_EQ(sketch.frequency(5), 1u);
  EXPECT_EQ(sketch.sample_size(), 2000u);
  sketch.ensure_capacity(5000);
  EXPECT_EQ(sketch.table_words(), 8192u);
  EXPECT_EQ(sketch.frequency(5), 0u);
  sketch.ensure_capacity(10);
  EXPECT_EQ(sketch.capacity(), 5000u);
}

TEST(FrequencySketch, DoorkeeperAbsorbsFirstOccurrence) {
  frequency_sketch sketch{1000, true};
  sketch.increment(11);
  EXPECT_EQ(sketch.frequency(11), 1u);
  sketch.increment(11);
  sketch.increment(11);
  EXPECT_EQ(sketch.frequency(11), 3u);
  sketch.age(); // clears the doorkeeper, halves the counters (2 -> 1)
  EXPECT_EQ(sketch.frequency(11), 1u);
  EXPECT_EQ(sketch.frequency(12), 0u);
}

TEST(FrequencySketch, UnseenKeysMatchAllRowsOnlyByChance) {
  // 300 keys counted 3 times each occupy about a quarter of each row's 1024 counters (256
  // words, 4 counters per row in a word). An unseen key reads as seen only if all four of
  // its counters are occupied: (1 - e^(-300/1024))^4 = 0.42% when the rows hash
  // independently. Rows kept in one 64-byte block collide together, giving 0.68%.
  frequency_sketch sketch{256};
  for (uint32_t key = 0; key < 300; ++key)
    for (int i = 0; i < 3; ++i)
      sketch.increment(key);
  int matched = 0;
  constexpr int probes = 100000;
  for (int i = 0; i < probes; ++i)
    matched += sketch.frequency(1'000'000u + static_cast<uint32_t>(i)) > 0;
  auto independent = std::pow(1 - std::exp(-300.0 / 1024), 4);
  EXPECT_LT(static_cast<double>(matched) / probes, 1.2 * independent);
}
