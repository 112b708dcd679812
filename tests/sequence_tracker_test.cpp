#include <gtest/gtest.h>

#include "mtcache/actors/detail/sequence_tracker.hpp"

using mtcache::detail::sequence_tracker;
using verdict = sequence_tracker::verdict;

namespace {

TEST(SequenceTracker, InOrderChangesOpenNoGap) {
  sequence_tracker t;
  for (uint64_t s = 1; s <= 5; ++s)
    EXPECT_EQ(t.record("a", 1, 0, s, 10), verdict::fresh);
  EXPECT_FALSE(t.has_gaps());
  EXPECT_EQ(t.missing(), 0u);
}

TEST(SequenceTracker, ASecondPathIsADuplicate) {
  sequence_tracker t;
  EXPECT_EQ(t.record("a", 1, 0, 1, 10), verdict::fresh);
  EXPECT_EQ(t.record("a", 1, 0, 1, 11), verdict::duplicate);
  EXPECT_EQ(t.record("a", 1, 0, 3, 12), verdict::fresh);
  EXPECT_EQ(t.record("a", 1, 0, 3, 13), verdict::duplicate);
  EXPECT_EQ(t.record("a", 1, 0, 2, 14), verdict::fresh);
  EXPECT_EQ(t.record("a", 1, 0, 2, 15), verdict::duplicate);
}

TEST(SequenceTracker, ASkippedChangeOpensAGapUntilItArrives) {
  sequence_tracker t;
  t.record("a", 1, 0, 1, 10);
  t.record("a", 1, 0, 4, 20);
  EXPECT_TRUE(t.has_gaps());
  EXPECT_EQ(t.missing(), 2u);
  EXPECT_EQ(t.oldest_gap_ms(), 20);
  EXPECT_TRUE(t.gap_open_since(20));
  EXPECT_FALSE(t.gap_open_since(19));
  t.record("a", 1, 0, 3, 30);
  EXPECT_EQ(t.missing(), 1u);
  EXPECT_EQ(t.oldest_gap_ms(), 20) << "the gap is as old as its oldest missing change";
  t.record("a", 1, 0, 2, 40);
  EXPECT_FALSE(t.has_gaps());
  EXPECT_EQ(t.oldest_gap_ms(), 0);
}

TEST(SequenceTracker, ACompactedRangeFillsEveryHoleItCovers) {
  sequence_tracker t;
  t.record("a", 1, 0, 2, 10);
  t.record("a", 1, 0, 9, 10);
  t.record("a", 1, 0, 12, 10);
  EXPECT_EQ(t.missing(), 6u + 2u);
  EXPECT_EQ(t.record("a", 1, 3, 11, 20), verdict::fresh);
  EXPECT_FALSE(t.has_gaps());
  EXPECT_EQ(t.record("a", 1, 5, 12, 30), verdict::duplicate);
  EXPECT_EQ(t.record("a", 1, 5, 13, 30), verdict::fresh);
}

TEST(SequenceTracker, GapsAreKeptPerSender) {
  sequence_tracker t;
  t.record("a", 1, 0, 1, 10);
  t.record("b", 1, 0, 7, 10);
  t.record("b", 1, 0, 9, 10);
  t.record("a", 1, 0, 2, 10);
  EXPECT_EQ(t.missing(), 1u);
  EXPECT_EQ(t.record("a", 1, 0, 8, 10), verdict::fresh) << "b's 8 is not a's";
  EXPECT_EQ(t.missing(), 1u + 5u);
}

TEST(SequenceTracker, ASenderHeardFirstMidwayHasNoGapBehindIt) {
  sequence_tracker t;
  t.record("a", 1, 0, 500, 10);
  EXPECT_FALSE(t.has_gaps());
  t.record("b", 1, 40, 60, 10);
  EXPECT_FALSE(t.has_gaps());
}

TEST(SequenceTracker, ANewEpochStartsOverAndMissesItsFirstChanges) {
  sequence_tracker t;
  t.record("a", 1, 0, 100, 10);
  EXPECT_EQ(t.record("a", 2, 0, 3, 20), verdict::fresh);
  EXPECT_EQ(t.missing(), 2u) << "changes 1 and 2 of the restarted sender did not arrive";
  EXPECT_EQ(t.record("a", 1, 0, 101, 30), verdict::stale_epoch);
  EXPECT_EQ(t.record("a", 2, 1, 2, 40), verdict::fresh);
  EXPECT_FALSE(t.has_gaps());
}

TEST(SequenceTracker, ForgivingClosesEveryGap) {
  sequence_tracker t;
  t.record("a", 1, 0, 1, 10);
  t.record("a", 1, 0, 5, 10);
  t.record("b", 1, 0, 1, 10);
  t.record("b", 1, 0, 3, 10);
  t.forgive();
  EXPECT_FALSE(t.has_gaps());
  EXPECT_EQ(t.record("a", 1, 0, 4, 20), verdict::duplicate);
  EXPECT_EQ(t.record("a", 1, 0, 6, 20), verdict::fresh);
  EXPECT_FALSE(t.has_gaps());
}

TEST(SequenceTracker, TooManyScatteredGapsMarkTheSenderLost) {
  sequence_tracker t;
  t.record("a", 1, 0, 1, 10);
  for (uint64_t s = 3; s < 3 + 2 * sequence_tracker::max_ranges; s += 2)
    t.record("a", 1, 0, s, 10);
  EXPECT_FALSE(t.lost());
  t.record("a", 1, 0, 3 + 2 * sequence_tracker::max_ranges, 10);
  EXPECT_TRUE(t.lost());
  t.forgive();
  EXPECT_FALSE(t.lost());
}

TEST(SequenceTracker, TheTableIsBoundedByForgettingTheQuietestSender) {
  sequence_tracker t;
  t.record("first", 1, 0, 1, 10);
  t.record("first", 1, 0, 3, 10);
  for (size_t i = 1; i < sequence_tracker::max_origins; ++i)
    t.record("o" + std::to_string(i), 1, 0, 1, 10);
  EXPECT_EQ(t.origins(), sequence_tracker::max_origins);
  EXPECT_TRUE(t.has_gaps());
  t.record("one-more", 1, 0, 1, 10);
  EXPECT_EQ(t.origins(), sequence_tracker::max_origins);
  EXPECT_FALSE(t.has_gaps()) << "the quietest sender, with its gap, was forgotten";
}

} // namespace
