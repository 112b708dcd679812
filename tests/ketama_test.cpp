// Placement checked against libmemcached itself: for the same server list, every key must
// land where libmemcached's weighted ketama (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) puts it, so
// that mtcache and other libmemcached-based clients agree on where a key lives. No server is
// contacted: placement is pure hashing.
#include "mtcache/codec/detail/ketama.hpp"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <libmemcached-1.0/memcached.h>

#include "mtcache/codec/detail/memcached_key.hpp"

using mtcache::memcached_server;
using mtcache::detail::ketama_ring;

namespace {

using client_ptr = std::unique_ptr<memcached_st, void (*)(memcached_st*)>;

client_ptr libmemcached_ring(const std::vector<memcached_server>& servers) {
  client_ptr client{memcached_create(nullptr), memcached_free};
  EXPECT_EQ(memcached_behavior_set(client.get(), MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED, 1),
            MEMCACHED_SUCCESS);
  for (auto& s : servers)
    EXPECT_EQ(memcached_server_add(client.get(), s.host.c_str(), s.port), MEMCACHED_SUCCESS);
  return client;
}

void expect_same_placement(const std::vector<memcached_server>& servers) {
  auto client = libmemcached_ring(servers);
  ketama_ring ours{servers};
  std::vector<size_t> per_server(servers.size());
  for (int i = 0; i < 5000; ++i) {
    auto key = "key:" + std::to_string(i);
    auto theirs = memcached_generate_hash(client.get(), key.data(), key.size());
    auto mine = ours.server_of(key);
    ASSERT_EQ(mine, theirs) << key << " with " << servers.size() << " servers";
    ++per_server[mine];
  }
  for (auto n : per_server)
    EXPECT_GT(n, 5000 / servers.size() / 3) << "a server got almost no keys";
}

TEST(Ketama, PlacesKeysAsLibmemcachedDoes) {
  expect_same_placement({{"127.0.0.1", 11211}, {"127.0.0.1", 11212}});
  expect_same_placement({{"10.0.0.1", 11211}, {"10.0.0.2", 11211}, {"10.0.0.3", 11211}});
  expect_same_placement(
      {{"cache-a", 11211}, {"cache-b", 22122}, {"cache-c", 11211}, {"cache-d", 11213}});
}

TEST(Ketama, NamesServersAsLibmemcachedDoes) {
  EXPECT_EQ(ketama_ring::point_name({"h", 11211}), "h");
  EXPECT_EQ(ketama_ring::point_name({"h", 11212}), "h:11212");
}

// Binary and hashed keys are placed by their stored bytes (what memcached holds), so a
// client sending the same bytes with the b flag finds the same server.
TEST(Ketama, PlacesStoredKeysOfAnyForm) {
  std::vector<memcached_server> servers{{"a", 11211}, {"b", 11211}, {"c", 11211}};
  auto client = libmemcached_ring(servers);
  ketama_ring ours{servers};
  for (std::string key :
       {std::string{"with space"}, std::string{"nul\0x", 5}, std::string(1000, 'k')}) {
    auto stored = mtcache::detail::memcached_stored_key("", key);
    EXPECT_EQ(ours.server_of(stored),
              memcached_generate_hash(client.get(), stored.data(), stored.size()));
  }
}

// Adding a server moves only the keys it takes over.
TEST(Ketama, AddingAServerMovesAboutItsShare) {
  std::vector<memcached_server> three{{"a", 11211}, {"b", 11211}, {"c", 11211}};
  auto four = three;
  four.push_back({"d", 11211});
  ketama_ring before{three};
  ketama_ring after{four};
  int moved = 0;
  for (int i = 0; i < 10000; ++i) {
    auto key = "key:" + std::to_string(i);
    auto x = before.server_of(key);
    auto y = after.server_of(key);
    if (x != y) {
      ++moved;
      EXPECT_EQ(y, 3u) << key << " moved between old servers";
    }
  }
  EXPECT_GT(moved, 1500);
  EXPECT_LT(moved, 3500);
}

TEST(Ketama, OneServerTakesEverything) {
  ketama_ring ring{{{"only", 11211}}};
  EXPECT_EQ(ring.server_of("x"), 0u);
  EXPECT_EQ(ring.server_of(""), 0u);
}

} // namespace
