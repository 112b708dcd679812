#include "mtcache/redis/cluster_topology.hpp"

#include <string>

#include <gtest/gtest.h>

#include "mtcache/redis/redis_connection.hpp"

using namespace mtcache::detail;
using kind = cluster_redirect::kind;

namespace {

// The reply the RESP text `wire` encodes.
redis_reply_ptr reply_of(const std::string& wire) {
  redis_reply_reader reader;
  EXPECT_TRUE(reader.feed(wire.data(), wire.size()));
  bool failed = false;
  auto reply = reader.next(failed);
  EXPECT_FALSE(failed);
  EXPECT_NE(reply, nullptr) << wire;
  return reply;
}

std::string node(const std::string& host, int port, const std::string& id) {
  return "*3\r\n$" + std::to_string(host.size()) + "\r\n" + host + "\r\n:" + std::to_string(port) +
         "\r\n$" + std::to_string(id.size()) + "\r\n" + id + "\r\n";
}

} // namespace

TEST(ClusterTopology, RedirectsAreRecognized) {
  auto moved = parse_cluster_error("MOVED 3999 127.0.0.1:6381");
  EXPECT_EQ(moved.what, kind::moved);
  EXPECT_EQ(moved.slot, 3999);
  EXPECT_EQ(moved.address, "127.0.0.1:6381");
  auto ask = parse_cluster_error("ASK 16383 [::1]:7000");
  EXPECT_EQ(ask.what, kind::ask);
  EXPECT_EQ(ask.slot, 16383);
  EXPECT_EQ(ask.address, "[::1]:7000");
  EXPECT_EQ(parse_cluster_error("TRYAGAIN Multiple keys request during rehashing of slot").what,
            kind::retry);
  EXPECT_EQ(parse_cluster_error("CLUSTERDOWN The cluster is down").what, kind::retry);
}

TEST(ClusterTopology, OrdinaryAndMalformedErrorsAreNotRedirects) {
  for (auto* text : {"ERR unknown command", "WRONGTYPE Operation against a key", "MOVED",
                     "MOVED 16384 127.0.0.1:7000", "MOVED x 127.0.0.1:7000", "MOVED 12 nohost",
                     "ASK 12 127.0.0.1:0", "MOVED 12 :7000", "CROSSSLOT Keys in request"})
    EXPECT_EQ(parse_cluster_error(text).what, kind::none) << text;
}

TEST(ClusterTopology, AddressesRoundTrip) {
  EXPECT_EQ(join_address("10.0.0.1", 7000), "10.0.0.1:7000");
  EXPECT_EQ(join_address("::1", 7000), "[::1]:7000");
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(split_address("[::1]:7000", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 7000);
  ASSERT_TRUE(split_address("node-a:6379", host, port));
  EXPECT_EQ(host, "node-a");
  EXPECT_FALSE(split_address("node-a", host, port));
  EXPECT_FALSE(split_address("node-a:70000", host, port));
}

TEST(ClusterTopology, SlotRangesWithPrimariesAndReplicas) {
  auto wire = "*2\r\n*4\r\n:0\r\n:5460\r\n" + node("127.0.0.1", 7000, "a") +
              node("127.0.0.1", 7003, "d") + "*3\r\n:5461\r\n:16383\r\n" + node("", 7001, "b");
  auto reply = reply_of(wire);
  auto ranges = parse_cluster_slots(reply.get(), "10.1.1.1");
  ASSERT_TRUE(ranges);
  ASSERT_EQ(ranges->size(), 2u);
  EXPECT_EQ((*ranges)[0].first, 0);
  EXPECT_EQ((*ranges)[0].last, 5460);
  EXPECT_EQ((*ranges)[0].primary, "127.0.0.1:7000");
  ASSERT_EQ((*ranges)[0].replicas.size(), 1u);
  EXPECT_EQ((*ranges)[0].replicas[0], "127.0.0.1:7003");
  // A node without an address is the one that was asked.
  EXPECT_EQ((*ranges)[1].primary, "10.1.1.1:7001");
}

TEST(ClusterTopology, BadSlotRepliesAreErrors) {
  EXPECT_FALSE(parse_cluster_slots(
      reply_of("-ERR This instance has cluster support disabled\r\n").get(), "h"));
  EXPECT_FALSE(parse_cluster_slots(reply_of(":1\r\n").get(), "h"));
  EXPECT_FALSE(
      parse_cluster_slots(reply_of("*1\r\n*3\r\n:10\r\n:5\r\n" + node("h", 1, "x")).get(), "h"));
  EXPECT_FALSE(
      parse_cluster_slots(reply_of("*1\r\n*3\r\n:0\r\n:16384\r\n" + node("h", 1, "x")).get(), "h"));
  EXPECT_FALSE(parse_cluster_slots(reply_of("*1\r\n*2\r\n:0\r\n:1\r\n").get(), "h"));
}
