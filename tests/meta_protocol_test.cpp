#include "mtcache/codec/detail/meta_protocol.hpp"

#include <climits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace mtcache::detail;
using namespace std::chrono_literals;
using kind = meta_reply::kind;

namespace {

std::string written(void (*write)(meta_writer&)) {
  std::vector<char> buf;
  meta_writer out{buf};
  write(out);
  return {buf.begin(), buf.end()};
}

TEST(MetaProtocol, WritesTheCommandsTheTierSends) {
  memcached_key plain{"k", false};
  memcached_key bin{"a2V5", true};
  std::vector<char> buf;
  meta_writer out{buf};
  out.get(plain).get(bin).exists(plain).remove(bin).noop().flush_all();
  out.set(plain, "value", 0).set(bin, std::string{"a\r\nb", 4}, 30);
  EXPECT_EQ(std::string(buf.begin(), buf.end()), "mg k v t\r\n"
                                                 "mg a2V5 b v t\r\n"
                                                 "mg k\r\n"
                                                 "md a2V5 b\r\n"
                                                 "mn\r\n"
                                                 "flush_all\r\n"
                                                 "ms k 5\r\nvalue\r\n"
                                                 "ms a2V5 4 b T30\r\na\r\nb\r\n");
  EXPECT_EQ(written([](meta_writer& w) { w.set({"e", false}, "", 1); }), "ms e 0 T1\r\n\r\n");
}

TEST(MetaProtocol, ExptimesAreWholeSecondsThenAbsolute) {
  constexpr int64_t now = 1'700'000'000;
  EXPECT_EQ(memcached_exptime(0s, now), 0);
  EXPECT_EQ(memcached_exptime(-5s, now), 0);
  EXPECT_EQ(memcached_exptime(1ns, now), 1);
  EXPECT_EQ(memcached_exptime(200ms, now), 1);
  EXPECT_EQ(memcached_exptime(1s, now), 1);
  EXPECT_EQ(memcached_exptime(1001ms, now), 2);
  EXPECT_EQ(memcached_exptime(std::chrono::hours{24 * 30}, now), 2'592'000);
  EXPECT_EQ(memcached_exptime(std::chrono::hours{24 * 30} + 1s, now), now + 2'592'001);
  EXPECT_EQ(memcached_exptime(std::chrono::hours{24 * 365 * 100}, now), INT32_MAX);
}

struct reader_fixture {
  meta_reply_reader in;

  std::vector<meta_reply> all(bool& failed) {
    std::vector<meta_reply> out;
    meta_reply r;
    while (in.next(r, failed))
      out.push_back(r);
    return out;
  }
};

TEST(MetaProtocol, ReadsEveryReplyKind) {
  reader_fixture f;
  std::string wire = "VA 3 t42\r\nabc\r\n"
                     "VA 0 t-1\r\n\r\n"
                     "EN\r\nHD\r\nNS\r\nEX\r\nNF\r\nMN\r\nOK\r\n"
                     "HD t17\r\n"
                     "SERVER_ERROR object too large for cache\r\n";
  f.in.feed(wire.data(), wire.size());
  bool failed = false;
  auto replies = f.all(failed);
  EXPECT_FALSE(failed);
  ASSERT_EQ(replies.size(), 11u);
  EXPECT_EQ(replies[0].what, kind::value);
  EXPECT_EQ(replies[0].value.view(), "abc");
  EXPECT_EQ(replies[0].ttl, 42);
  EXPECT_EQ(replies[1].what, kind::value);
  EXPECT_EQ(replies[1].value.size(), 0u);
  EXPECT_EQ(replies[1].ttl, -1);
  std::vector<kind> kinds{kind::miss,      kind::done, kind::not_stored, kind::exists,
                          kind::not_found, kind::noop, kind::ok};
  for (size_t i = 0; i < kinds.size(); ++i)
    EXPECT_EQ(replies[2 + i].what, kinds[i]) << i;
  EXPECT_EQ(replies[9].ttl, 17);
  EXPECT_EQ(replies[10].what, kind::server_error);
  EXPECT_EQ(replies[10].message, "object too large for cache");
}

// Replies arrive in arbitrary pieces; values may hold CR LF and look like replies.
TEST(MetaProtocol, ReadsRepliesSplitAnywhere) {
  std::string value{"EN\r\nVA 1\r\n\0x", 13};
  std::string wire = "VA 13 t5\r\n" + value + "\r\nEN\r\n";
  for (size_t cut = 0; cut <= wire.size(); ++cut) {
    reader_fixture f;
    bool failed = false;
    f.in.feed(wire.data(), cut);
    auto first = f.all(failed);
    f.in.feed(wire.data() + cut, wire.size() - cut);
    auto rest = f.all(failed);
    ASSERT_FALSE(failed) << cut;
    first.insert(first.end(), rest.begin(), rest.end());
    ASSERT_EQ(first.size(), 2u) << cut;
    EXPECT_EQ(first[0].value.str(), value) << cut;
    EXPECT_EQ(first[0].ttl, 5);
    EXPECT_EQ(first[1].what, kind::miss);
  }
}

TEST(MetaProtocol, ManyRepliesAcrossManyFeeds) {
  reader_fixture f;
  std::string one = "VA 64 t-1\r\n" + std::string(64, 'v') + "\r\n";
  bool failed = false;
  size_t n = 0;
  for (int round = 0; round < 1000; ++round) {
    std::string wire;
    for (int i = 0; i < 7; ++i)
      wire += one;
    f.in.feed(wire.data(), wire.size() - 5);
    n += f.all(failed).size();
    f.in.feed(wire.data() + wire.size() - 5, 5);
    n += f.all(failed).size();
  }
  EXPECT_FALSE(failed);
  EXPECT_EQ(n, 7000u);
}

// Anything that is no reply of ours means commands and replies fell out of step.
TEST(MetaProtocol, ErrorsAndGarbageFailTheConnection) {
  for (std::string bad : {"ERROR\r\n", "CLIENT_ERROR bad command line format\r\n", "XX\r\n",
                          "HDX\r\n", "VA x\r\nabc\r\n", "VA\r\n", "EN\n", "\n", "VA 3\r\nabcXY"}) {
    reader_fixture f;
    f.in.feed(bad.data(), bad.size());
    bool failed = false;
    f.all(failed);
    EXPECT_TRUE(failed) << bad;
  }
}

} // namespace
