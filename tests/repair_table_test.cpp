#include <string>

#include <gtest/gtest.h>

#include "mtcache/actors/detail/repair_table.hpp"

using mtcache::bytes;
using mtcache::detail::repair_table;

namespace {

constexpr size_t l2 = 1;

// When held changes were made, and a remote change made after them (Unix ms).
constexpr int64_t written = 1000;
constexpr int64_t later = 2000;

TEST(RepairTable, KeepsTheNewestFailedChangePerKey) {
  repair_table t;
  t.failed_write(l2, "a", bytes{"v1"}, 0, written);
  t.failed_write(l2, "a", bytes{"v2"}, 0, written);
  t.failed_write(l2, "b", bytes{"x"}, 0, written);
  t.failed_removal(l2, "b", written);
  EXPECT_EQ(t.pending(l2), 2u);
  EXPECT_EQ(t.recorded(), 4u);
  EXPECT_EQ(t.superseded(), 2u);
  auto b = t.take(l2, 100);
  ASSERT_EQ(b.writes.size(), 1u);
  EXPECT_EQ(b.writes[0].key, "a");
  EXPECT_EQ(b.writes[0].value, bytes{"v2"});
  EXPECT_EQ(b.writes[0].ttl.count(), 0) << "no expiry stays no expiry";
  EXPECT_EQ(b.removals, std::vector<std::string>{"b"});
  EXPECT_EQ(t.pending(), 0u);
}

TEST(RepairTable, ReappliesWithTheTtlLeftAndExpiredValuesAsRemovals) {
  repair_table t;
  t.failed_write(l2, "short", bytes{"s"}, 1500, written);
  t.failed_write(l2, "gone", bytes{"g"}, 900, written);
  auto b = t.take(l2, 1000);
  ASSERT_EQ(b.writes.size(), 1u);
  EXPECT_EQ(b.writes[0].ttl, std::chrono::milliseconds{500});
  EXPECT_EQ(b.removals, std::vector<std::string>{"gone"});
}

TEST(RepairTable, ANewerChangeSentOrARemoteChangeMakesTheHeldChangeMoot) {
  repair_table t;
  t.failed_write(l2, "mine", bytes{"v"}, 0, written);
  t.failed_write(l2, "theirs", bytes{"v"}, 0, written);
  t.overtaken("mine");
  EXPECT_FALSE(t.remote_change("theirs", 10, later)) << "nothing of ours reached the tier";
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_TRUE(t.take(l2, 10).empty());
  EXPECT_EQ(t.superseded(), 2u);
}

TEST(RepairTable, OnlyANewerRemoteChangeMakesAHeldChangeMoot) {
  repair_table t;
  t.failed_write(l2, "k", bytes{"v"}, 0, written);
  EXPECT_FALSE(t.remote_change("k", 10, written - 1)) << "an older change of theirs";
  EXPECT_FALSE(t.remote_change("k", 10, 0)) << "a change that does not say when";
  EXPECT_EQ(t.pending(l2), 1u);
  auto b = t.take(l2, 10);
  EXPECT_FALSE(t.remote_change("k", 20, written - 1)) << "no need to undo a newer repair";
  EXPECT_TRUE(t.remote_change("k", 20, written)) << "made at the same time: undo";
}

TEST(RepairTable, ARemoteChangeDuringOrJustAfterARepairNeedsACompensatingRemoval) {
  repair_table::limits lim;
  lim.settle_ms = 1000;
  repair_table t{lim};
  t.failed_write(l2, "a", bytes{"v"}, 0, written);
  t.failed_write(l2, "b", bytes{"v"}, 0, written);
  t.failed_write(l2, "c", bytes{"v"}, 0, written);
  auto b = t.take(l2, 0);
  EXPECT_TRUE(t.remote_change("a", 5, later)) << "a is on the wire";
  t.applied(b, 10);
  EXPECT_TRUE(t.remote_change("b", 900, later)) << "b landed 890 ms ago";
  EXPECT_FALSE(t.remote_change("c", 1100, later)) << "c landed long before";
  EXPECT_FALSE(t.remote_change("never-held", 20, later));
  EXPECT_EQ(t.repaired(), 3u);
}

TEST(RepairTable, AFailedBatchIsHeldAgainUnlessSomethingNewerCame) {
  repair_table t;
  t.failed_write(l2, "a", bytes{"old"}, 0, written);
  t.failed_write(l2, "b", bytes{"b"}, 5000, written);
  t.failed_pattern(l2, "user:*");
  auto b = t.take(l2, 1000);
  EXPECT_EQ(b.patterns, std::vector<std::string>{"user:*"});
  t.failed_write(l2, "a", bytes{"new"}, 0, written);
  t.failed(std::move(b), 2000);
  auto again = t.take(l2, 2000);
  ASSERT_EQ(again.writes.size(), 2u);
  for (auto& w : again.writes) {
    if (w.key == "a")
      EXPECT_EQ(w.value, bytes{"new"});
    else
      EXPECT_EQ(w.ttl, std::chrono::milliseconds{4000});
  }
  EXPECT_EQ(again.patterns, std::vector<std::string>{"user:*"});
}

TEST(RepairTable, AFailedRepairThatANewerChangeOvertookStaysDropped) {
  repair_table t;
  t.failed_write(l2, "theirs", bytes{"old"}, 0, written);
  t.failed_write(l2, "ours", bytes{"old"}, 0, written);
  t.failed_write(l2, "kept", bytes{"old"}, 0, written);
  auto b = t.take(l2, 0);
  EXPECT_TRUE(t.remote_change("theirs", 1, later));
  t.overtaken("ours");
  t.failed(std::move(b), 2);
  auto again = t.take(l2, 2);
  ASSERT_EQ(again.writes.size(), 1u);
  EXPECT_EQ(again.writes[0].key, "kept");
}

TEST(RepairTable, IsBoundedByKeysAndBytes) {
  repair_table::limits lim;
  lim.max_keys = 2;
  lim.max_bytes = 10;
  repair_table t{lim};
  t.failed_write(l2, "a", bytes{"12345678"}, 0, written);
  t.failed_write(l2, "b", bytes{"12345678"}, 0, written);
  EXPECT_EQ(t.degraded(), 1u) << "past max_bytes a write is kept as a removal";
  t.failed_write(l2, "c", bytes{"1"}, 0, written);
  EXPECT_EQ(t.dropped(), 1u);
  t.failed_write(l2, "a", bytes{"x"}, 0, written);
  EXPECT_EQ(t.dropped(), 1u) << "a key already held is replaced, not dropped";
  auto b = t.take(l2, 0);
  EXPECT_EQ(b.writes.size(), 1u);
  EXPECT_EQ(b.removals, std::vector<std::string>{"b"});
}

TEST(RepairTable, TakesAtMostMaxKeysPerBatchAndTiersApart) {
  repair_table t;
  for (int i = 0; i < 25; ++i)
    t.failed_removal(l2, "k" + std::to_string(i), written);
  t.failed_removal(2, "l3-key", written);
  EXPECT_EQ(t.tiers_pending(), (std::vector<size_t>{1, 2}));
  EXPECT_EQ(t.take(l2, 0, 10).removals.size(), 10u);
  EXPECT_EQ(t.pending(l2), 15u);
  EXPECT_EQ(t.pending(2), 1u);
  t.remote_pattern([](const std::string& key) { return key.rfind("k1", 0) == 0; }, later);
  EXPECT_LT(t.pending(l2), 15u);
  t.overtaken_matching([](const std::string&) { return true; });
  EXPECT_EQ(t.pending(), 0u);
}

} // namespace
