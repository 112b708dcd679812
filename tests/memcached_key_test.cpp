#include "mtcache/codec/detail/memcached_key.hpp"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace mtcache::detail;

namespace {

TEST(MemcachedKey, Base64MatchesTheStandardVectors) {
  // RFC 4648, section 10.
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string{"\xff\xfe\x00", 3}), "//4A");
}

TEST(MemcachedKey, PrintableKeysGoAsTheyAre) {
  auto k = to_memcached_key("app:", "user:42");
  EXPECT_EQ(k.text, "app:user:42");
  EXPECT_FALSE(k.binary);
  EXPECT_EQ(memcached_stored_key("app:", "user:42"), "app:user:42");
  auto longest = to_memcached_key("", std::string(250, 'k'));
  EXPECT_EQ(longest.text, std::string(250, 'k'));
  EXPECT_FALSE(longest.binary);
}

TEST(MemcachedKey, OtherShortKeysGoBase64AsTheirVeryBytes) {
  for (std::string key :
       {std::string{"with space"}, std::string{"nul\0x", 5}, std::string{"\xc3\xa9t\xc3\xa9"},
        std::string{"tab\t"}, std::string(186 - 2, '\x01')}) {
    auto k = to_memcached_key("p:", key);
    EXPECT_TRUE(k.binary) << key;
    EXPECT_EQ(k.text, base64_encode("p:" + key));
    EXPECT_LE(k.text.size(), memcached_max_key_bytes);
    EXPECT_EQ(memcached_stored_key("p:", key), "p:" + key);
  }
}

TEST(MemcachedKey, LongOrMarkedKeysAreHashedAndFitAlways) {
  std::vector<std::string> keys{std::string(251, 'k'), std::string(187, ' '),
                                std::string(1024, '\0'), "\xff",
                                "\xff"
                                "abc"};
  std::set<std::string> stored;
  for (auto& key : keys) {
    auto s = memcached_stored_key("p:", key);
    EXPECT_EQ(s.size(), 2u + 1 + 32) << key.size();
    EXPECT_EQ(s.substr(0, 2), "p:");
    EXPECT_EQ(static_cast<unsigned char>(s[2]), 0xFF);
    auto k = to_memcached_key("p:", key);
    EXPECT_TRUE(k.binary);
    EXPECT_EQ(k.text, base64_encode(s));
    stored.insert(s);
  }
  EXPECT_EQ(stored.size(), keys.size()) << "hashed keys collided";
  // The longest prefix still leaves room for a hashed key in base64.
  auto k = to_memcached_key(std::string(memcached_max_prefix_bytes, 'p'), std::string(4096, 'k'));
  EXPECT_LE(k.text.size(), memcached_max_key_bytes);
}

// A printable key of 187..250 bytes goes plain; the same length with one odd byte is hashed,
// and no plain or base64 key can equal a hashed one (those hold 0xFF right after the prefix).
TEST(MemcachedKey, FormsNeverCollide) {
  std::string plain(200, 'a');
  EXPECT_FALSE(to_memcached_key("", plain).binary);
  std::string odd = plain;
  odd[100] = ' ';
  EXPECT_EQ(memcached_stored_key("", odd).size(), 33u);
  EXPECT_NE(memcached_stored_key("", odd), memcached_stored_key("", plain));
  auto hashed = memcached_stored_key("", std::string(300, 'x'));
  // Asking for the hashed form's bytes as a key hashes them again: a different item.
  EXPECT_NE(memcached_stored_key("", hashed), hashed);
  EXPECT_NE(to_memcached_key("", "").text, "");
}

} // namespace
