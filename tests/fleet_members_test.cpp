#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mtcache/actors/detail/fleet_members.hpp"

using mtcache::detail::rendezvous_owner;
using mtcache::detail::rendezvous_score;

namespace {

std::string owner(const std::string& key, const std::vector<std::string>& nodes) {
  return nodes[rendezvous_owner(key, {nodes.begin(), nodes.end()})];
}

TEST(FleetMembers, ScoresAreFixedSoEveryNodeRanksAlike) {
  // Nodes built elsewhere (another compiler, another platform) must agree: the score is a
  // function of the bytes only.
  EXPECT_EQ(rendezvous_score("user:1", "node-a"), rendezvous_score("user:1", "node-a"));
  EXPECT_NE(rendezvous_score("user:1", "node-a"), rendezvous_score("user:1", "node-b"));
  EXPECT_NE(rendezvous_score("ab", "c"), rendezvous_score("a", "bc"));
  EXPECT_EQ(rendezvous_score("user:1", "node-a"), 0x35b7379eedf2507bULL);
}

TEST(FleetMembers, KeysSpreadEvenlyOverTheNodes) {
  std::vector<std::string> nodes{"n1", "n2", "n3"};
  std::map<std::string, int> owned;
  for (int i = 0; i < 30000; ++i)
    ++owned[owner("key:" + std::to_string(i), nodes)];
  ASSERT_EQ(owned.size(), 3u);
  for (auto& [node, n] : owned)
    EXPECT_NEAR(n, 10000, 600) << node;
}

TEST(FleetMembers, ANodeLeavingMovesOnlyItsOwnKeys) {
  std::vector<std::string> all{"n1", "n2", "n3", "n4"};
  std::vector<std::string> without_n3{"n1", "n2", "n4"};
  int moved = 0;
  for (int i = 0; i < 20000; ++i) {
    auto key = "key:" + std::to_string(i);
    auto before = owner(key, all);
    auto after = owner(key, without_n3);
    if (before != "n3")
      EXPECT_EQ(before, after) << key;
    else
      ++moved;
  }
  EXPECT_NEAR(moved, 5000, 500);
}

} // namespace
