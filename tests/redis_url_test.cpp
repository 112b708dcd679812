#include "mtcache/codec/redis_url.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

using mtcache::redis_url;
using transport = mtcache::redis_url::transport;

namespace {

redis_url parsed(std::string_view text) {
  std::string error;
  auto result = redis_url::parse(text, &error);
  EXPECT_TRUE(result) << text << ": " << error;
  return result.value_or(redis_url{});
}

std::string rejection(std::string_view text) {
  std::string error;
  auto result = redis_url::parse(text, &error);
  EXPECT_FALSE(result) << text << " was accepted";
  EXPECT_FALSE(error.empty()) << text;
  return error;
}

redis_url tcp(std::string host, uint16_t port = 6379, int db = 0, std::string user = {},
              std::string password = {}) {
  redis_url x;
  x.host = std::move(host);
  x.port = port;
  x.db = db;
  x.user = std::move(user);
  x.password = std::move(password);
  return x;
}

redis_url unix_socket(std::string path, int db = 0, std::string user = {},
                      std::string password = {}) {
  redis_url x;
  x.kind = transport::unix_socket;
  x.host.clear();
  x.path = std::move(path);
  x.db = db;
  x.user = std::move(user);
  x.password = std::move(password);
  return x;
}

} // namespace

TEST(RedisUrl, DefaultsPortAndDatabase) {
  EXPECT_EQ(parsed("redis://localhost"), tcp("localhost"));
  EXPECT_EQ(parsed("redis://localhost/"), tcp("localhost"));
  EXPECT_EQ(parsed("redis://127.0.0.1:6379"), tcp("127.0.0.1"));
}

TEST(RedisUrl, ReadsPortAndDatabase) {
  EXPECT_EQ(parsed("redis://cache.example.com:6380/3"), tcp("cache.example.com", 6380, 3));
  EXPECT_EQ(parsed("redis://h:1/0"), tcp("h", 1, 0));
  EXPECT_EQ(parsed("redis://h:65535/2147483647"), tcp("h", 65535, 2147483647));
  EXPECT_EQ(parsed("redis://h/007"), tcp("h", 6379, 7));
}

TEST(RedisUrl, ReadsUserAndPassword) {
  EXPECT_EQ(parsed("redis://alice:s3cret@h:6380/1"), tcp("h", 6380, 1, "alice", "s3cret"));
  EXPECT_EQ(parsed("redis://:s3cret@h"), tcp("h", 6379, 0, "", "s3cret"));
  EXPECT_EQ(parsed("redis://alice@h"), tcp("h", 6379, 0, "alice", ""));
  EXPECT_EQ(parsed("redis://alice:@h"), tcp("h", 6379, 0, "alice", ""));
  EXPECT_EQ(parsed("redis://@h"), tcp("h"));
}

TEST(RedisUrl, PercentDecodesUserAndPassword) {
  EXPECT_EQ(parsed("redis://us%40er:p%3Aa%2fss%25%20w@h"), tcp("h", 6379, 0, "us@er", "p:a/ss% w"));
  // The last '@' ends the user info, so an unencoded '@' in a password still works.
  EXPECT_EQ(parsed("redis://:p@ss@h"), tcp("h", 6379, 0, "", "p@ss"));
  // '+' is literal in user info.
  EXPECT_EQ(parsed("redis://:a+b@h"), tcp("h", 6379, 0, "", "a+b"));
}

TEST(RedisUrl, ReadsIpv6InBrackets) {
  EXPECT_EQ(parsed("redis://[::1]"), tcp("::1"));
  EXPECT_EQ(parsed("redis://[::1]:6380/2"), tcp("::1", 6380, 2));
  EXPECT_EQ(parsed("redis://:pw@[2001:db8::7]:7000"), tcp("2001:db8::7", 7000, 0, "", "pw"));
  EXPECT_EQ(parsed("redis://[::ffff:10.0.0.1]"), tcp("::ffff:10.0.0.1"));
}

TEST(RedisUrl, SchemeIsCaseInsensitive) {
  EXPECT_EQ(parsed("REDIS://h"), tcp("h"));
  EXPECT_EQ(parsed("Unix:///s"), unix_socket("/s"));
}

TEST(RedisUrl, ReadsUnixSockets) {
  EXPECT_EQ(parsed("unix:///run/redis/redis.sock"), unix_socket("/run/redis/redis.sock"));
  EXPECT_EQ(parsed("unix:///tmp/r.sock?db=4"), unix_socket("/tmp/r.sock", 4));
  EXPECT_EQ(parsed("unix:///tmp/r.sock?db=4&password=p%26w"),
            unix_socket("/tmp/r.sock", 4, "", "p&w"));
  EXPECT_EQ(parsed("unix:///tmp/r.sock?pass=a+b&user=bob"),
            unix_socket("/tmp/r.sock", 0, "bob", "a b"));
  EXPECT_EQ(parsed("redis+unix:///tmp/r.sock?db=1"), unix_socket("/tmp/r.sock", 1));
  EXPECT_EQ(parsed("unix:///tmp/my%20redis.sock"), unix_socket("/tmp/my redis.sock"));
}

TEST(RedisUrl, RejectsWithReason) {
  struct row {
    const char* url;
    const char* reason;
  };
  std::vector<row> rows{
      {"", "empty URL"},
      {"localhost:6379", "missing scheme"},
      {"rediss://h:6380", "TLS) is not supported"},
      {"http://h", "unsupported scheme 'http'"},
      {"redis://", "empty host"},
      {"redis://:pw@", "empty host"},
      {"redis://:6379", "empty host"},
      {"redis://h:0", "port 0 is out of range"},
      {"redis://h:65536", "port 65536 is out of range"},
      {"redis://h:99999999999999999999", "out of range 1..65535"},
      {"redis://h:", "empty port"},
      {"redis://h:63a9", "port '63a9' is not a number"},
      {"redis://h:-1", "not a number"},
      {"redis://h:6379:1", "not a number"},
      {"redis://h/-1", "database '-1' is not a non-negative integer"},
      {"redis://h/x", "database 'x'"},
      {"redis://h/+1", "database '+1'"},
      {"redis://h/2147483648", "database 2147483648 is out of range"},
      {"redis://h/0/extra", "unexpected '/extra' after the database number"},
      {"redis://h/0?timeout=1", "query strings"},
      {"redis://h?db=1", "query strings"},
      {"redis://h#frag", "fragments"},
      {"redis://h\n", "control character at offset 9"},
      {"redis://h\x7f", "control character"},
      {"redis://h /0", "space at offset 9"},
      {"redis://h\xc3\xa9", "non-ASCII byte"},
      {"redis://ho_st!", "invalid character '!' in host"},
      {"redis://h%41", "invalid character '%' in host"},
      {"redis://:p%zz@h", "invalid percent-encoding in password"},
      {"redis://u%4@h", "invalid percent-encoding in user"},
      {"redis://:p%00@h", "password contains an encoded NUL byte"},
      {"redis://[::1", "unterminated IPv6"},
      {"redis://[::1]x", "unexpected 'x' after IPv6"},
      {"redis://[]", "is not an IPv6 address"},
      {"redis://[localhost]", "is not an IPv6 address"},
      {"redis://[fe80::1%25eth0]", "invalid character '%' in IPv6"},
      {"unix://", "absolute path"},
      {"unix://host/tmp/r.sock", "absolute path"},
      {"unix:///tmp/r.sock?", "empty query string"},
      {"unix:///tmp/r.sock?db", "'db' has no value"},
      {"unix:///tmp/r.sock?db=1&&x=2", "empty query parameter"},
      {"unix:///tmp/r.sock?db=1&db=2", "'db' given twice"},
      {"unix:///tmp/r.sock?password=a&pass=b", "'pass' given twice"},
      {"unix:///tmp/r.sock?timeout=5", "unknown query parameter 'timeout'"},
      {"unix:///tmp/r.sock?db=x", "database 'x'"},
      {"unix:///tmp/r.sock#x", "fragments"},
      {"unix:///tmp/r%2", "invalid percent-encoding in socket path"},
  };
  for (auto& r : rows) {
    auto error = rejection(r.url);
    EXPECT_NE(error.find(r.reason), std::string::npos)
        << r.url << ": got '" << error << "', want '" << r.reason << "'";
  }
}

TEST(RedisUrl, RejectsEmbeddedNul) {
  auto error = rejection(std::string_view{"redis://h\0x", 11});
  EXPECT_NE(error.find("control character at offset 9"), std::string::npos) << error;
}

TEST(RedisUrl, RejectsOverlongInput) {
  EXPECT_NE(rejection("redis://" + std::string(300, 'h')).find("host is longer than 253"),
            std::string::npos);
  EXPECT_NE(rejection("unix:///" + std::string(107, 's')).find("longer than the 107"),
            std::string::npos);
  EXPECT_TRUE(redis_url::parse("unix:///" + std::string(106, 's')));
  EXPECT_NE(rejection("redis://h/" + std::string(5000, '0')).find("URL is longer than 4096"),
            std::string::npos);
}

TEST(RedisUrl, ReasonNeverQuotesThePassword) {
  for (auto* url : {"redis://:topsecret%zz@h", "redis://:topsecret@h:x", "redis://:topsecret@",
                    "unix:///s?password=topsecret&password=topsecret"})
    EXPECT_EQ(rejection(url).find("topsecret"), std::string::npos) << url;
}

TEST(RedisUrl, ToStringRedactsPassword) {
  EXPECT_EQ(to_string(parsed("redis://h")), "redis://h:6379/0");
  EXPECT_EQ(to_string(parsed("redis://alice:s3cret@h:6380/2")), "redis://alice:***@h:6380/2");
  EXPECT_EQ(to_string(parsed("redis://:s3cret@[::1]")), "redis://:***@[::1]:6379/0");
  EXPECT_EQ(to_string(parsed("redis://al%40ice@h")), "redis://al%40ice@h:6379/0");
  EXPECT_EQ(to_string(parsed("unix:///tmp/r.sock?db=3&password=s3cret&user=bob")),
            "unix:///tmp/r.sock?db=3&user=bob&password=***");
  EXPECT_EQ(to_string(parsed("unix:///tmp/my%20r.sock")), "unix:///tmp/my%20r.sock?db=0");
}

TEST(RedisUrl, ToStringParsesBackWithoutPassword) {
  for (auto* url :
       {"redis://h:1/2", "redis://al%40ice@[::1]:7000/5", "unix:///a/b%3Fc?db=9&user=x"}) {
    auto x = parsed(url);
    auto y = parsed(to_string(x));
    EXPECT_EQ(x, y) << url;
  }
}

TEST(RedisUrl, ClusterSeeds) {
  auto x = parsed("redis+cluster://alice:pw@10.0.0.1:7000,[::1]:7001,node-c");
  EXPECT_EQ(x.mode, redis_url::topology::cluster);
  ASSERT_EQ(x.nodes.size(), 3u);
  EXPECT_EQ(x.nodes[0], (redis_url::endpoint{"10.0.0.1", 7000}));
  EXPECT_EQ(x.nodes[1], (redis_url::endpoint{"::1", 7001}));
  EXPECT_EQ(x.nodes[2], (redis_url::endpoint{"node-c", 6379}));
  EXPECT_EQ(x.host, "10.0.0.1");
  EXPECT_EQ(x.port, 7000);
  EXPECT_EQ(x.user, "alice");
  EXPECT_EQ(x.password, "pw");
  EXPECT_EQ(parsed("REDIS+CLUSTER://h/0").db, 0);
  EXPECT_EQ(to_string(x), "redis+cluster://alice:***@10.0.0.1:7000,[::1]:7001,node-c:6379/0");
}

TEST(RedisUrl, ClusterRejections) {
  EXPECT_NE(rejection("redis+cluster://h/1").find("only database 0"), std::string::npos);
  EXPECT_NE(rejection("redis+cluster://h,,g").find("empty host"), std::string::npos);
  EXPECT_NE(rejection("redis+cluster://h,").find("empty host after ','"), std::string::npos);
  EXPECT_NE(rejection("redis+cluster://h:1,h:1").find("listed twice"), std::string::npos);
  EXPECT_NE(rejection("redis+cluster://h?db=1").find("not supported"), std::string::npos);
  EXPECT_NE(rejection("redis+cluster://h:0").find("out of range"), std::string::npos);
  EXPECT_NE(rejection("redis+cluster://").find("host"), std::string::npos);
}

TEST(RedisUrl, SentinelSet) {
  auto x = parsed("redis+sentinel://:pw@s1,s2:26380,s3/my%20master/2?sentinel_password=sp");
  EXPECT_EQ(x.mode, redis_url::topology::sentinel);
  ASSERT_EQ(x.nodes.size(), 3u);
  EXPECT_EQ(x.nodes[0], (redis_url::endpoint{"s1", 26379}));
  EXPECT_EQ(x.nodes[1], (redis_url::endpoint{"s2", 26380}));
  EXPECT_EQ(x.master_name, "my master");
  EXPECT_EQ(x.db, 2);
  EXPECT_EQ(x.password, "pw");
  EXPECT_EQ(x.sentinel_password, "sp");
  EXPECT_EQ(to_string(x), "redis+sentinel://:***@s1:26379,s2:26380,s3:26379/my%20master/2"
                          "?sentinel_password=***");
  EXPECT_EQ(parsed("redis+sentinel://s1/m").db, 0);
  EXPECT_EQ(parsed("redis+sentinel://s1/m/?sentinel_user=u").sentinel_user, "u");
}

TEST(RedisUrl, SentinelRejections) {
  EXPECT_NE(rejection("redis+sentinel://s1").find("names the primary"), std::string::npos);
  EXPECT_NE(rejection("redis+sentinel://s1/").find("names the primary"), std::string::npos);
  EXPECT_NE(rejection("redis+sentinel://s1/m/x").find("not a non-negative"), std::string::npos);
  EXPECT_NE(rejection("redis+sentinel://s1/m/1/2").find("unexpected"), std::string::npos);
  EXPECT_NE(rejection("redis+sentinel://s1/m?db=1").find("unknown query parameter"),
            std::string::npos);
  EXPECT_NE(rejection("redis+sentinel://s1/m?sentinel_password=a&sentinel_password=b")
                .find("given twice"),
            std::string::npos);
  EXPECT_EQ(rejection("redis+sentinel://s1/m?sentinel_password=topsecret&x=1").find("topsecret"),
            std::string::npos);
}

TEST(RedisUrl, SentinelConfigFieldsSpellTheSameUrl) {
  using mtcache::configured_url;
  using mtcache::redis_sentinel_config;
  using mtcache::redis_tier_config;
  redis_sentinel_config fields;
  fields.sentinels = {"s1", "s2:26380", "[::1]:26381"};
  fields.master = "my master";
  fields.user = "alice";
  fields.password = "p@ss:/word";
  fields.db = 2;
  fields.sentinel_user = "watcher";
  fields.sentinel_password = "s&p=?";
  auto x = parsed(mtcache::to_url(fields));
  EXPECT_EQ(x.mode, redis_url::topology::sentinel);
  ASSERT_EQ(x.nodes.size(), 3u);
  EXPECT_EQ(x.nodes[0].port, redis_url::default_sentinel_port);
  EXPECT_EQ(x.nodes[1].port, 26380);
  EXPECT_EQ(x.nodes[2].host, "::1");
  EXPECT_EQ(x.master_name, "my master");
  EXPECT_EQ(x.user, "alice");
  EXPECT_EQ(x.password, "p@ss:/word");
  EXPECT_EQ(x.db, 2);
  EXPECT_EQ(x.sentinel_user, "watcher");
  EXPECT_EQ(x.sentinel_password, "s&p=?");
  redis_tier_config tier;
  EXPECT_EQ(configured_url(tier), "");
  tier.sentinel = fields;
  EXPECT_EQ(configured_url(tier), mtcache::to_url(fields));
  tier.url = "redis://h";
  EXPECT_EQ(configured_url(tier), "redis://h");
}
