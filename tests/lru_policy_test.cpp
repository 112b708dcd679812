#include "mtcache/store/lru_policy.hpp"

#include <vector>

#include <gtest/gtest.h>

using mtcache::detail::extent;
using mtcache::detail::lru_policy;

TEST(LruPolicy, EvictsLeastRecentlyUsed) {
  lru_policy lru{extent{3, UINT64_MAX}};
  std::vector<uint32_t> victims;
  for (uint32_t id = 0; id < 3; ++id)
    lru.insert(id, id, 1, victims);
  EXPECT_TRUE(victims.empty());
  lru.record_access(0);
  lru.insert(3, 3, 1, victims);
  EXPECT_EQ(victims, (std::vector<uint32_t>{1}));
  victims.clear();
  lru.insert(4, 4, 1, victims);
  EXPECT_EQ(victims, (std::vector<uint32_t>{2}));
  EXPECT_EQ(lru.coldest(), 0u);
}

TEST(LruPolicy, HoldsBothBounds) {
  lru_policy lru{extent{10, 100}};
  std::vector<uint32_t> victims;
  lru.insert(0, 0, 40, victims);
  lru.insert(1, 1, 40, victims);
  lru.insert(2, 2, 40, victims);
  EXPECT_EQ(victims, (std::vector<uint32_t>{0}));
  EXPECT_EQ(lru.held().entries, 2u);
  EXPECT_EQ(lru.held().weight, 80u);
  victims.clear();
  lru.update(1, 90, victims); // 90 + 40 > 100: the coldest other entry goes
  EXPECT_EQ(victims, (std::vector<uint32_t>{2}));
  EXPECT_EQ(lru.held().weight, 90u);
}

TEST(LruPolicy, UpdateRefreshesRecency) {
  lru_policy lru{extent{2, UINT64_MAX}};
  std::vector<uint32_t> victims;
  lru.insert(0, 0, 1, victims);
  lru.insert(1, 1, 1, victims);
  lru.update(0, 1, victims);
  lru.insert(2, 2, 1, victims);
  EXPECT_EQ(victims, (std::vector<uint32_t>{1}));
}

TEST(LruPolicy, RemoveAndClearForget) {
  lru_policy lru{extent{2, UINT64_MAX}};
  std::vector<uint32_t> victims;
  lru.insert(0, 0, 5, victims);
  lru.insert(1, 1, 5, victims);
  lru.remove(0);
  lru.remove(0);
  EXPECT_EQ(lru.held().entries, 1u);
  EXPECT_EQ(lru.held().weight, 5u);
  lru.insert(2, 2, 1, victims);
  EXPECT_TRUE(victims.empty());
  lru.clear();
  EXPECT_EQ(lru.held().entries, 0u);
  EXPECT_EQ(lru.coldest(), mtcache::detail::id_lists::nil);
}

TEST(LruPolicy, ZeroCapacityRejectsAtOnce) {
  lru_policy lru{extent{0, UINT64_MAX}};
  std::vector<uint32_t> victims;
  lru.insert(4, 4, 1, victims);
  EXPECT_EQ(victims, (std::vector<uint32_t>{4}));
}
