#include "mtcache/store/hash_index.hpp"

#include <random>
#include <unordered_map>

#include <gtest/gtest.h>

using mtcache::detail::hash_index;

TEST(HashIndex, FindsByHashAndMatch) {
  hash_index index;
  index.insert(7, 1);
  index.insert(7, 2); // same hash, different key
  EXPECT_EQ(index.find(7, [](uint32_t id) { return id == 2; }), 2u);
  EXPECT_EQ(index.find(7, [](uint32_t id) { return id == 1; }), 1u);
  EXPECT_EQ(index.find(8, [](uint32_t) { return true; }), hash_index::nil);
  EXPECT_EQ(index.size(), 2u);
}

TEST(HashIndex, EraseKeepsCollidingRunsReachable) {
  hash_index index;
  // Hashes 0, 16, 32 share a home slot in the initial 16-slot table; 1 sits in their run.
  index.insert(0, 10);
  index.insert(16, 11);
  index.insert(1, 12);
  index.insert(32, 13);
  index.erase(16, 11);
  auto any = [](uint32_t) { return true; };
  EXPECT_EQ(index.find(0, any), 10u);
  EXPECT_EQ(index.find(1, any), 12u);
  EXPECT_EQ(index.find(32, any), 13u);
  EXPECT_EQ(index.find(16, any), hash_index::nil);
  EXPECT_EQ(index.size(), 3u);
}

TEST(HashIndex, RandomChurnMatchesReference) {
  hash_index index;
  std::unordered_map<uint32_t, uint32_t> reference; // id -> hash
  std::mt19937 rng{7};
  for (uint32_t step = 0; step < 20000; ++step) {
    auto id = rng() % 2000;
    auto it = reference.find(id);
    if (it == reference.end()) {
      auto hash = rng() % 512; // many collisions
      index.insert(hash, id);
      reference.emplace(id, hash);
    } else {
      index.erase(it->second, id);
      reference.erase(it);
    }
  }
  ASSERT_EQ(index.size(), reference.size());
  for (const auto& [id, hash] : reference)
    EXPECT_EQ(index.find(hash, [id = id](uint32_t x) { return x == id; }), id);
  index.clear();
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.find(1, [](uint32_t) { return true; }), hash_index::nil);
}
