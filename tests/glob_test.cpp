#include "mtcache/codec/detail/glob.hpp"

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "glob_reference.hpp"

using mtcache::detail::glob;
using mtcache::reference::redis_keys_matches;

namespace {

std::string bin(const char* hex) {
  std::string result;
  for (auto* p = hex; p[0] && p[1]; p += 2)
    result.push_back(static_cast<char>(std::stoi(std::string{p, 2}, nullptr, 16)));
  return result;
}

struct redis_case {
  std::string pattern;
  std::string key;
  bool matches;
};

// Recorded from redis-server 7.0.15 on x86-64: every key of a group was SET, then the
// pattern was run through KEYS and through SCAN MATCH (both agreed).
const std::vector<redis_case>& redis_table() {
  static const std::vector<redis_case> table{
      {R"()", R"()", true},
      {R"()", R"(a)", false},
      {R"(*)", R"()", true},
      {R"(*)", R"(a)", true},
      {R"(*)", R"(user:1)", true},
      {R"(**)", R"()", false},
      {R"(**)", R"(a)", true},
      {R"(user:*)", R"(user:)", true},
      {R"(user:*)", R"(user:1)", true},
      {R"(user:*)", R"(user)", false},
      {R"(user:*)", R"(xuser:1)", false},
      {R"(*:1)", R"(user:1)", true},
      {R"(*:1)", R"(:1)", true},
      {R"(*:1)", R"(user:12)", false},
      {R"(a*b*c)", R"(abc)", true},
      {R"(a*b*c)", R"(aXbYc)", true},
      {R"(a*b*c)", R"(acb)", false},
      {R"(a*b*c)", R"(abcb)", false},
      {R"(a*b*c)", R"(abcc)", true},
      {R"(a*?)", R"(a)", false},
      {R"(a*?)", R"(ab)", true},
      {R"(a*?)", R"(abc)", true},
      {R"(?)", R"()", false},
      {R"(?)", R"(a)", true},
      {R"(?)", R"(ab)", false},
      {bin("3f"), bin("00"), true},
      {R"(h?llo)", R"(hello)", true},
      {R"(h?llo)", R"(hallo)", true},
      {R"(h?llo)", R"(hllo)", false},
      {R"(h*llo)", R"(hllo)", true},
      {R"(h*llo)", R"(heeeello)", true},
      {R"(h[ae]llo)", R"(hello)", true},
      {R"(h[ae]llo)", R"(hallo)", true},
      {R"(h[ae]llo)", R"(hillo)", false},
      {R"(h[^e]llo)", R"(hallo)", true},
      {R"(h[^e]llo)", R"(hbllo)", true},
      {R"(h[^e]llo)", R"(hello)", false},
      {R"(h[a-b]llo)", R"(hallo)", true},
      {R"(h[a-b]llo)", R"(hbllo)", true},
      {R"(h[a-b]llo)", R"(hcllo)", false},
      {R"([z-a])", R"(a)", true},
      {R"([z-a])", R"(m)", true},
      {R"([z-a])", R"(z)", true},
      {R"([z-a])", R"(A)", false},
      {bin("5b612dff5d"), bin("00"), true},
      {bin("5b612dff5d"), bin("61"), true},
      {bin("5b612dff5d"), bin("62"), false},
      {bin("5b612dff5d"), bin("ff"), true},
      {bin("5b612dff5d"), bin("80"), false},
      {bin("5b612dff5d"), bin("7f"), false},
      {bin("5b802dff5d"), bin("80"), true},
      {bin("5b802dff5d"), bin("c3"), true},
      {bin("5b802dff5d"), bin("ff"), true},
      {bin("5b802dff5d"), bin("7f"), false},
      {bin("5b802dff5d"), bin("61"), false},
      {R"([)", R"()", false},
      {R"([)", R"([)", false},
      {R"([)", R"(a)", false},
      {R"([^)", R"(a)", true},
      {R"([^)", R"([)", true},
      {R"([^)", R"(^)", true},
      {R"([^)", R"(ab)", false},
      {R"([])", R"(])", false},
      {R"([])", R"([])", false},
      {R"([])", R"(a)", false},
      {R"([^])", R"(])", true},
      {R"([^])", R"(a)", true},
      {R"([^])", R"(ab)", false},
      {R"([]a])", R"(]a)", false},
      {R"([]a])", R"(a)", false},
      {R"([]a])", R"(])", false},
      {R"([a-])", R"(a)", true},
      {R"([a-])", R"(-)", false},
      {R"([a-])", R"(])", true},
      {R"([a-])", R"(^)", true},
      {R"([a-])", R"(_)", true},
      {R"([a-])", R"(`)", true},
      {R"([a-])", R"(b)", false},
      {R"([a-]x)", R"(a)", true},
      {R"([a-]x)", R"(x)", true},
      {R"([a-]x)", R"(]x)", false},
      {R"([a-]x)", R"(ax)", false},
      {R"([a-z)", R"(a)", true},
      {R"([a-z)", R"(m)", true},
      {R"([a-z)", R"([a-z)", false},
      {R"(x[a-)", R"(xa)", true},
      {R"(x[a-)", R"(x-)", true},
      {R"(x[a-)", R"(xb)", false},
      {R"([--z])", R"(-)", true},
      {R"([--z])", R"(.)", true},
      {R"([--z])", R"(a)", true},
      {R"([--z])", R"(,)", false},
      {R"([\a-z])", R"(a)", true},
      {R"([\a-z])", R"(-)", true},
      {R"([\a-z])", R"(z)", true},
      {R"([\a-z])", R"(m)", false},
      {R"([a-\z])", R"(a)", true},
      {R"([a-\z])", R"(\)", true},
      {R"([a-\z])", R"(^)", true},
      {R"([a-\z])", R"(z)", true},
      {R"([a-\z])", R"(b)", false},
      {R"([\]])", R"(])", true},
      {R"([\]])", R"(\)", false},
      {R"([a\)", R"(a)", true},
      {R"([a\)", R"(\)", true},
      {R"(\*)", R"(*)", true},
      {R"(\*)", R"(a)", false},
      {R"(\*)", R"(\*)", false},
      {R"(\?x)", R"(?x)", true},
      {R"(\?x)", R"(ax)", false},
      {R"(a\)", R"(a\)", true},
      {R"(a\)", R"(a)", false},
      {R"(\)", R"(\)", true},
      {R"(\)", R"()", false},
      {R"(\a)", R"(a)", true},
      {R"(\a)", R"(\a)", false},
      {R"(*[)", R"(a)", false},
      {R"(*[)", R"([)", false},
      {R"(*[)", R"(a[)", false},
      {bin("61002a"), bin("610062"), true},
      {bin("61002a"), bin("61"), false},
      {bin("61002a"), bin("6100"), true},
      {R"([^a-c])", R"(a)", false},
      {R"([^a-c])", R"(d)", true},
      {R"([^a-c])", R"()", false},
      {R"(a*)", R"()", false},
      {R"(a*)", R"(a)", true},
      {R"(a*)", R"(ab)", true},
      {R"(*a)", R"(a)", true},
      {R"(*a)", R"(ba)", true},
      {R"(*a)", R"(ab)", false},
      {R"(a**b)", R"(ab)", true},
      {R"(a**b)", R"(axxb)", true},
      {R"(a**b)", R"(axxc)", false},
      {R"(*a*a*b)", R"(aab)", true},
      {R"(*a*a*b)", R"(aaaa)", false},
      {R"(*a*a*b)", R"(xaxaxb)", true},
      {R"([ab][^ab]*)", R"(ac)", true},
      {R"([ab][^ab]*)", R"(ab)", false},
      {R"([ab][^ab]*)", R"(acccc)", true},
      {R"([ab][^ab]*)", R"(b)", false},
      {R"([[])", R"([)", true},
      {R"([[])", R"(])", false},
      {R"([\)", R"(\)", true},
      {R"([\)", R"([)", false},
      {R"([^\]])", R"(])", false},
      {R"([^\]])", R"(a)", true},
      {R"([^-])", R"(-)", false},
      {R"([^-])", R"(a)", true},
      {R"([a^])", R"(^)", true},
      {R"([a^])", R"(a)", true},
      {R"([a^])", R"(b)", false},
      {R"(*\)", R"(x\)", true},
      {R"(*\)", R"(\)", true},
      {R"(*\)", R"(x)", false},
      {R"(?*?)", R"(a)", false},
      {R"(?*?)", R"(ab)", true},
      {R"(?*?)", R"(abc)", true},
      {R"(user:[0-9]*)", R"(user:1)", true},
      {R"(user:[0-9]*)", R"(user:x)", false},
      {R"(user:[0-9]*)", R"(user:)", false},
  };
  return table;
}

glob compiled(std::string_view pattern) {
  std::string error;
  auto result = glob::compile(pattern, &error);
  EXPECT_TRUE(result) << error;
  return result ? *result : *glob::compile("");
}

std::string printable(std::string_view x) {
  std::string result;
  for (auto c : x) {
    auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7f) {
      result.push_back(c);
    } else {
      static constexpr char digits[] = "0123456789abcdef";
      result += "\\x";
      result.push_back(digits[b >> 4]);
      result.push_back(digits[b & 15]);
    }
  }
  return result;
}

} // namespace

TEST(Glob, MatchesLikeRedisOnRecordedTable) {
  for (auto& row : redis_table())
    EXPECT_EQ(compiled(row.pattern).matches(row.key), row.matches)
        << "pattern '" << printable(row.pattern) << "' key '" << printable(row.key) << "'";
}

TEST(Glob, ReferenceModelMatchesRecordedTable) {
  for (auto& row : redis_table())
    EXPECT_EQ(redis_keys_matches(row.pattern, row.key), row.matches)
        << "pattern '" << printable(row.pattern) << "' key '" << printable(row.key) << "'";
}

TEST(Glob, AgreesWithReferenceModelOnRandomPatterns) {
  // Small alphabets full of special bytes, so that every parser branch gets exercised.
  static constexpr char pattern_bytes[] = {'a', 'b',  '*', '?',  '[',    ']',    '^',
                                           '-', '\\', 'z', '\0', '\x7f', '\x80', '\xff'};
  static constexpr char key_bytes[] = {'a',  'b', 'z',  '-',    ']',    '^',   '[',
                                       '\\', '*', '\0', '\x7f', '\x80', '\xff'};
  std::mt19937 rng{20240611};
  auto draw = [&](const char* alphabet, size_t n, size_t max_len) {
    std::string s(rng() % (max_len + 1), ' ');
    for (auto& c : s)
      c = alphabet[rng() % n];
    return s;
  };
  size_t matched = 0;
  for (int i = 0; i < 20000; ++i) {
    auto pattern = draw(pattern_bytes, sizeof(pattern_bytes), 10);
    auto g = compiled(pattern);
    for (int j = 0; j < 10; ++j) {
      auto key = draw(key_bytes, sizeof(key_bytes), 8);
      auto expected = redis_keys_matches(pattern, key);
      matched += expected ? 1 : 0;
      ASSERT_EQ(g.matches(key), expected)
          << "pattern '" << printable(pattern) << "' key '" << printable(key) << "'";
    }
  }
  // Guard against a generator that only ever produces mismatches.
  EXPECT_GT(matched, 1000u);
}

TEST(Glob, ManyStarsStayPolynomial) {
  // Redis before 7.0.9 needed exponential time here; the greedy matcher needs
  // key × pattern steps.
  std::string pattern;
  for (int i = 0; i < 40; ++i)
    pattern += "*a";
  pattern += "*b";
  auto g = compiled(pattern);
  std::string key(20000, 'a');
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(g.matches(key));
  EXPECT_TRUE(g.matches(key + "b"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{2});
}

TEST(Glob, MatchesEverythingOnlyForStars) {
  for (auto* p : {"*", "**", "***"})
    EXPECT_TRUE(compiled(p).matches_everything()) << p;
  for (auto* p : {"", "?", "*?", "a*", "*a", "\\*", "[*]", "[^]"})
    EXPECT_FALSE(compiled(p).matches_everything()) << p;
}

TEST(Glob, LiteralPrefixStopsAtFirstWildcard) {
  EXPECT_EQ(compiled("user:*").literal_prefix(), "user:");
  EXPECT_EQ(compiled("user\\*:*").literal_prefix(), "user*:");
  EXPECT_EQ(compiled("[u]ser:?").literal_prefix(), "user:");
  EXPECT_EQ(compiled("ab?c").literal_prefix(), "ab");
  EXPECT_EQ(compiled("a[bc]").literal_prefix(), "a");
  EXPECT_EQ(compiled("*abc").literal_prefix(), "");
  EXPECT_EQ(compiled("").literal_prefix(), "");
  EXPECT_EQ(compiled("a\\").literal_prefix(), "a\\");
  EXPECT_EQ(compiled(bin("61002a")).literal_prefix(), bin("6100"));
}

TEST(Glob, IsLiteralWithoutWildcards) {
  for (auto* p : {"", "abc", "a\\*b", "[x]y", "a\\"})
    EXPECT_TRUE(compiled(p).is_literal()) << p;
  for (auto* p : {"a*", "a?", "[xy]", "[", "[^a]"})
    EXPECT_FALSE(compiled(p).is_literal()) << p;
}

TEST(Glob, EscapeQuotesEverySpecialByte) {
  EXPECT_EQ(glob::escape("a*b?[c]\\d^-"), "a\\*b\\?\\[c\\]\\\\d^-");
  EXPECT_EQ(glob::escape(""), "");
}

TEST(Glob, EscapedKeyMatchesOnlyThatKey) {
  std::mt19937 rng{7};
  for (int i = 0; i < 2000; ++i) {
    std::string key(1 + rng() % 12, ' ');
    for (auto& c : key)
      c = static_cast<char>(rng() % 256);
    auto g = compiled(glob::escape(key));
    EXPECT_TRUE(g.matches(key)) << printable(key);
    EXPECT_TRUE(g.is_literal());
    EXPECT_EQ(g.literal_prefix(), key);
    EXPECT_FALSE(g.matches(key + "x"));
    EXPECT_FALSE(g.matches(key.substr(1)));
    EXPECT_TRUE(redis_keys_matches(glob::escape(key), key)) << printable(key);
  }
}

TEST(Glob, RejectsPatternOverLengthLimit) {
  std::string error;
  EXPECT_FALSE(glob::compile(std::string(glob::default_max_pattern_bytes + 1, 'a'), &error));
  EXPECT_NE(error.find("longer than the limit of 4096"), std::string::npos) << error;
  EXPECT_TRUE(glob::compile(std::string(glob::default_max_pattern_bytes, 'a')));
  EXPECT_FALSE(glob::compile("abcdef", &error, 5));
  EXPECT_TRUE(glob::compile("abcde", &error, 5));
}

TEST(Glob, RejectsMoreStarGroupsThanRedisFollows) {
  std::string pattern;
  for (size_t i = 0; i < glob::max_star_groups; ++i)
    pattern += "*a";
  EXPECT_TRUE(glob::compile(pattern));
  std::string error;
  EXPECT_FALSE(glob::compile(pattern + "*", &error));
  EXPECT_NE(error.find("1001 '*' groups"), std::string::npos) << error;
}

TEST(Glob, KeepsSourcePattern) {
  EXPECT_EQ(compiled("a[b-c]*").pattern(), "a[b-c]*");
}
