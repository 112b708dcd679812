#include "mtcache/codec/detail/cluster_slot.hpp"

#include <gtest/gtest.h>

using mtcache::detail::cluster_slot;
using mtcache::detail::crc16;

// Values from the Redis Cluster specification and from CLUSTER KEYSLOT on redis-server 7.0.
TEST(ClusterSlot, Crc16MatchesTheSpecification) {
  EXPECT_EQ(crc16("123456789"), 0x31C3);
  EXPECT_EQ(crc16(""), 0);
}

TEST(ClusterSlot, KeysHashToTheSlotsRedisComputes) {
  EXPECT_EQ(cluster_slot("foo"), 12182);
  EXPECT_EQ(cluster_slot("bar"), 5061);
  EXPECT_EQ(cluster_slot("hello"), 866);
  EXPECT_EQ(cluster_slot(""), 0);
}

TEST(ClusterSlot, HashTagsPickTheSlot) {
  EXPECT_EQ(cluster_slot("{user1000}.following"), cluster_slot("user1000"));
  EXPECT_EQ(cluster_slot("{user1000}.followers"), cluster_slot("{user1000}.following"));
  // Only the first '{' counts, and an empty tag means the whole key is hashed.
  EXPECT_EQ(cluster_slot("foo{}{bar}"), cluster_slot("foo{}{bar}"));
  EXPECT_NE(cluster_slot("foo{}{bar}"), cluster_slot("bar"));
  EXPECT_EQ(cluster_slot("foo{{bar}}zap"), cluster_slot("{bar"));
  EXPECT_EQ(cluster_slot("foo{bar}{zap}"), cluster_slot("bar"));
  // No closing brace: the whole key.
  EXPECT_EQ(cluster_slot("{user1000"), cluster_slot("{user1000"));
  EXPECT_NE(cluster_slot("{user1000"), cluster_slot("user1000"));
}
