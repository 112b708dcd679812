#include "mtcache/codec/memcached_url.hpp"

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mtcache/messages/error.hpp"

using mtcache::memcached_server;
using mtcache::memcached_url;

namespace {

std::vector<memcached_server> parsed(std::string_view text) {
  std::string error;
  auto result = memcached_url::parse(text, &error);
  EXPECT_TRUE(result) << text << ": " << error;
  return result ? result->servers : std::vector<memcached_server>{};
}

std::string rejection(std::string_view text) {
  std::string error;
  auto result = memcached_url::parse(text, &error);
  EXPECT_FALSE(result) << text << " was accepted";
  EXPECT_FALSE(error.empty()) << text;
  return error;
}

using servers = std::vector<memcached_server>;

TEST(MemcachedUrl, OneServerWithAndWithoutPort) {
  EXPECT_EQ(parsed("memcache://127.0.0.1:11211"), (servers{{"127.0.0.1", 11211}}));
  EXPECT_EQ(parsed("memcache://cache.local"), (servers{{"cache.local", 11211}}));
  EXPECT_EQ(parsed("memcache://h:1"), (servers{{"h", 1}}));
  EXPECT_EQ(parsed("memcache://h:65535"), (servers{{"h", 65535}}));
  EXPECT_EQ(parsed("memcache://[::1]:11300"), (servers{{"::1", 11300}}));
  EXPECT_EQ(parsed("memcache://[::1]"), (servers{{"::1", 11211}}));
}

TEST(MemcachedUrl, SeveralServersInEitherListForm) {
  servers both{{"a", 11211}, {"b", 11212}};
  EXPECT_EQ(parsed("memcache://a:11211,b:11212"), both);
  EXPECT_EQ(parsed("memcache://a,memcache://b:11212"), both);
  EXPECT_EQ(parsed("memcache://a , b:11212 "), both);
  // The same host on two ports is two servers.
  EXPECT_EQ(parsed("memcache://a:1,a:2").size(), 2u);
}

TEST(MemcachedUrl, RejectionsSayWhatIsWrong) {
  EXPECT_NE(rejection("").find("no server"), std::string::npos);
  EXPECT_NE(rejection("127.0.0.1:11211").find("starts with memcache://"), std::string::npos);
  EXPECT_NE(rejection("redis://h").find("unsupported scheme 'redis'"), std::string::npos);
  EXPECT_NE(rejection("memcache+tls://h").find("unsupported scheme"), std::string::npos);
  EXPECT_NE(rejection("memcache://").find("empty host"), std::string::npos);
  EXPECT_NE(rejection("memcache://h:").find("empty port"), std::string::npos);
  EXPECT_NE(rejection("memcache://h:0").find("out of range"), std::string::npos);
  EXPECT_NE(rejection("memcache://h:65536").find("out of range"), std::string::npos);
  EXPECT_NE(rejection("memcache://h:x1").find("not a number"), std::string::npos);
  EXPECT_NE(rejection("memcache://u:p@h").find("credentials"), std::string::npos);
  EXPECT_NE(rejection("memcache://h?timeout=1").find("query parameters"), std::string::npos);
  EXPECT_NE(rejection("memcache://h#x").find("fragments"), std::string::npos);
  EXPECT_NE(rejection("memcache://h/db").find("no path"), std::string::npos);
  EXPECT_NE(rejection("memcache://[::1").find("unterminated"), std::string::npos);
  EXPECT_NE(rejection("memcache://[::1]x").find("after IPv6 host"), std::string::npos);
  EXPECT_NE(rejection("memcache://a,").find("empty server"), std::string::npos);
  EXPECT_NE(rejection("memcache://a b").find("spaces"), std::string::npos);
  EXPECT_NE(rejection("memcache://a\n").find("control"), std::string::npos);
  EXPECT_NE(rejection("memcache://a,a:11211").find("listed twice"), std::string::npos);
  EXPECT_NE(rejection("memcache://" + std::string(254, 'h')).find("253"), std::string::npos);
  EXPECT_NE(rejection(std::string(5000, 'm')).find("4096"), std::string::npos);
}

TEST(MemcachedUrl, PrintsWhatItParses) {
  auto url = memcached_url::parse("memcache://a,[::1]:11300");
  ASSERT_TRUE(url);
  EXPECT_EQ(to_string(*url), "memcache://a:11211,[::1]:11300");
  EXPECT_EQ(memcached_url::parse(to_string(*url))->servers, url->servers);
}

TEST(MemcachedUrl, ResolvesExplicitThenEnvironmentThenDefault) {
  unsetenv("MEMCACHED_URL");
  EXPECT_EQ(mtcache::resolve_memcached_url("")->servers, (servers{{"127.0.0.1", 11211}}));
  setenv("MEMCACHED_URL", "memcache://env:1", 1);
  EXPECT_EQ(mtcache::resolve_memcached_url("")->servers, (servers{{"env", 1}}));
  EXPECT_EQ(mtcache::resolve_memcached_url("memcache://given:2")->servers, (servers{{"given", 2}}));
  setenv("MEMCACHED_URL", "bogus", 1);
  auto bad = mtcache::resolve_memcached_url("");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(mtcache::is(bad.error(), mtcache::errc::invalid_url));
  unsetenv("MEMCACHED_URL");
}

} // namespace
