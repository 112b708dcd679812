#include "mtcache/store/miniature_cache.hpp"

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "mtcache/store/lru_policy.hpp"

using mtcache::detail::extent;
using mtcache::detail::lru_policy;
using mtcache::detail::miniature_cache;

namespace {

miniature_cache lru_miniature(uint64_t capacity) {
  return miniature_cache{std::make_unique<lru_policy>(extent{capacity, UINT64_MAX}), capacity};
}

} // namespace

TEST(MiniatureCache, HitsWhatItHolds) {
  auto cache = lru_miniature(2);
  EXPECT_FALSE(cache.access(7));
  EXPECT_FALSE(cache.access(8));
  EXPECT_TRUE(cache.access(7));
  EXPECT_FALSE(cache.access(9)); // evicts 8, the least recent
  EXPECT_TRUE(cache.access(7));
  EXPECT_FALSE(cache.access(8));
}

TEST(MiniatureCache, AgreesWithAPlainLruUnderChurn) {
  // Random keys that collide in the table's slots, so that erasing shifts probe runs.
  constexpr uint64_t capacity = 50;
  auto cache = lru_miniature(capacity);
  std::vector<uint32_t> order; // reference LRU, most recent last
  std::mt19937 rng{3};
  for (int i = 0; i < 200000; ++i) {
    auto key = static_cast<uint32_t>(rng() % 120) * 0x10000u;
    auto it = std::find(order.begin(), order.end(), key);
    bool expected = it != order.end();
    if (expected)
      order.erase(it);
    order.push_back(key);
    if (order.size() > capacity)
      order.erase(order.begin());
    ASSERT_EQ(cache.access(key), expected) << "request " << i;
  }
}
