#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mtcache/actors/detail/publish_backlog.hpp"
#include "mtcache/actors/detail/sequence_tracker.hpp"

using mtcache::invalidation;
using mtcache::detail::publish_backlog;
using mtcache::detail::sequence_tracker;
using kind = invalidation::kind;

namespace {

invalidation change(kind type, uint64_t seq, std::string key_or_pattern = "") {
  invalidation x;
  x.type = type;
  x.seq = seq;
  if (type == kind::remove_pattern)
    x.pattern = key_or_pattern;
  else
    x.key = key_or_pattern;
  return x;
}

invalidation bulk(uint64_t seq, std::vector<std::string> keys) {
  invalidation x;
  x.type = kind::remove_bulk;
  x.seq = seq;
  x.keys = std::move(keys);
  return x;
}

std::set<std::string> keys_of(const std::vector<invalidation>& msgs) {
  std::set<std::string> out;
  for (auto& m : msgs)
    for (auto& k : m.keys)
      out.insert(k);
  return out;
}

// Checks that the messages' ranges follow each other without a hole from `lo` to `hi`.
void expect_covers(const std::vector<invalidation>& msgs, uint64_t lo, uint64_t hi) {
  ASSERT_FALSE(msgs.empty());
  auto next = lo;
  for (auto& m : msgs) {
    EXPECT_EQ(m.from_seq, next);
    EXPECT_GE(m.seq, m.from_seq);
    next = m.seq + 1;
  }
  EXPECT_EQ(next, hi + 1);
}

TEST(PublishBacklog, KeepsTheNewestChangePerKeyAsARemoval) {
  publish_backlog b;
  auto u = change(kind::update, 3, "a");
  u.value = mtcache::bytes{"big value"};
  b.hold(change(kind::remove, 2, "a"));
  b.hold(u);
  b.hold(change(kind::remove, 4, "b"));
  b.hold(bulk(5, {"b", "c"}));
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.compacted(), 2u);
  auto msgs = b.drain();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].type, kind::remove_bulk);
  EXPECT_EQ(keys_of(msgs), (std::set<std::string>{"a", "b", "c"}));
  expect_covers(msgs, 2, 5);
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(b.drain().empty());
}

TEST(PublishBacklog, SplitsIntoBoundedMessagesCoveringEverySequenceNumber) {
  publish_backlog b;
  for (uint64_t s = 1; s <= 2500; ++s)
    b.hold(change(kind::remove, s, "k" + std::to_string(s)));
  auto msgs = b.drain(1000);
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0].keys.size(), 1000u);
  EXPECT_EQ(msgs[2].keys.size(), 500u);
  expect_covers(msgs, 1, 2500);
  EXPECT_EQ(keys_of(msgs).size(), 2500u);
  for (uint64_t s = 1; s <= 200; ++s)
    b.hold(change(kind::remove, 3000 + s, std::string(100, 'x') + std::to_string(s)));
  msgs = b.drain(1000, 5000);
  EXPECT_GT(msgs.size(), 3u) << "also bounded by bytes";
  expect_covers(msgs, 3001, 3200);
}

TEST(PublishBacklog, PatternsKeepTheirPlaceInSequence) {
  publish_backlog b;
  b.hold(change(kind::remove, 10, "a"));
  b.hold(change(kind::remove_pattern, 11, "user:*"));
  b.hold(change(kind::remove, 12, "b"));
  auto msgs = b.drain();
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[0].keys, std::vector<std::string>{"a"});
  EXPECT_EQ(msgs[1].type, kind::remove_pattern);
  EXPECT_EQ(msgs[1].pattern, "user:*");
  EXPECT_EQ(msgs[1].seq, 11u);
  EXPECT_EQ(msgs[2].keys, std::vector<std::string>{"b"});
  expect_covers(msgs, 10, 12);
}

TEST(PublishBacklog, TagRemovalsAndClearsAreKeptWholeInSequence) {
  publish_backlog b;
  auto tag = change(kind::remove_tag, 20, "t");
  tag.removed_us = 123;
  b.hold(change(kind::remove, 19, "a"));
  b.hold(tag);
  b.hold(change(kind::clear, 21));
  auto msgs = b.drain();
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[1].type, kind::remove_tag);
  EXPECT_EQ(msgs[1].key, "t");
  EXPECT_EQ(msgs[1].removed_us, 123);
  EXPECT_EQ(msgs[2].type, kind::clear);
  EXPECT_EQ(msgs[2].seq, 21u);
  expect_covers(msgs, 19, 21);
}

TEST(PublishBacklog, ASettledKeyLeavesItsRangeCovered) {
  publish_backlog b;
  b.hold(change(kind::remove, 7, "a"));
  b.hold(change(kind::remove, 8, "b"));
  b.settle("b");
  b.settle("never-held");
  EXPECT_EQ(b.size(), 1u);
  auto msgs = b.drain();
  EXPECT_EQ(keys_of(msgs), std::set<std::string>{"a"});
  expect_covers(msgs, 7, 8);
  b.hold(change(kind::remove, 9, "c"));
  b.settle("c");
  msgs = b.drain();
  ASSERT_EQ(msgs.size(), 1u) << "an empty RemoveBulk still covers the range";
  EXPECT_TRUE(msgs[0].keys.empty());
  expect_covers(msgs, 9, 9);
}

TEST(PublishBacklog, AFailedCompactedMessageIsHeldWithItsRange) {
  publish_backlog b;
  auto again = bulk(20, {"x", "y"});
  again.from_seq = 12;
  b.hold(again);
  auto msgs = b.drain();
  expect_covers(msgs, 12, 20);
}

TEST(PublishBacklog, GivesUpPastItsBoundSoReceiversSeeTheGap) {
  publish_backlog b{3};
  sequence_tracker receiver;
  receiver.record("a", 1, 0, 1, 0);
  for (uint64_t s = 2; s <= 5; ++s)
    b.hold(change(kind::remove, s, "k" + std::to_string(s)));
  EXPECT_EQ(b.dropped(), 4u);
  EXPECT_TRUE(b.empty());
  b.hold(change(kind::remove, 6, "k6"));
  auto msgs = b.drain();
  expect_covers(msgs, 6, 6);
  for (auto& m : msgs)
    receiver.record("a", 1, m.from_seq, m.seq, 0);
  EXPECT_EQ(receiver.missing(), 4u) << "the dropped changes stay missing, so receivers recover";
}

TEST(PublishBacklog, AReceiverThatGotTheRestSeesNoGapAfterTheBacklog) {
  // Changes 1..10: 3, 4 and 8 failed to reach Redis; the receiver got the others.
  publish_backlog b;
  sequence_tracker receiver;
  for (uint64_t s = 1; s <= 10; ++s) {
    if (s == 3 || s == 4 || s == 8)
      b.hold(change(kind::remove, s, "k" + std::to_string(s)));
    else
      receiver.record("a", 1, 0, s, 0);
  }
  EXPECT_EQ(receiver.missing(), 3u);
  for (auto& m : b.drain())
    receiver.record("a", 1, m.from_seq, m.seq, 0);
  EXPECT_FALSE(receiver.has_gaps());
}

} // namespace
