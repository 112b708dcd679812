#include "mtcache/codec/detail/json_reader.hpp"

#include <string>

#include <gtest/gtest.h>

#include "mtcache/codec/detail/json_writer.hpp"

using mtcache::detail::json_reader;
using mtcache::detail::json_type;

namespace {

// Whether `text` is one valid JSON value and nothing else.
bool valid(std::string_view text, size_t max_depth = 64) {
  json_reader r{text, SIZE_MAX, max_depth};
  return r.skip_value() && r.end();
}

std::string error_of(std::string_view text) {
  json_reader r{text};
  EXPECT_FALSE(r.skip_value() && r.end()) << text;
  return r.error();
}

std::optional<std::string> string_of(std::string_view text) {
  json_reader r{text};
  std::string out;
  if (!r.read_string(out) || !r.end())
    return std::nullopt;
  return out;
}

std::optional<uint64_t> uint_of(std::string_view text, uint64_t max = UINT64_MAX) {
  json_reader r{text};
  uint64_t out = 0;
  if (!r.read_uint(out, max) || !r.end())
    return std::nullopt;
  return out;
}

} // namespace

TEST(JsonReader, WalksNestedValues) {
  json_reader r{R"( {"a" : [1, {"b": null}], "c":"x", "d":true} )"};
  std::string name;
  std::string s;
  uint64_t n = 0;
  ASSERT_TRUE(r.begin_object());
  ASSERT_TRUE(r.next_member(name));
  EXPECT_EQ(name, "a");
  ASSERT_TRUE(r.begin_array());
  ASSERT_TRUE(r.next_element());
  ASSERT_TRUE(r.read_uint(n));
  EXPECT_EQ(n, 1u);
  ASSERT_TRUE(r.next_element());
  EXPECT_EQ(r.peek(), json_type::object);
  ASSERT_TRUE(r.skip_value());
  EXPECT_FALSE(r.next_element());
  ASSERT_TRUE(r.next_member(name));
  EXPECT_EQ(name, "c");
  ASSERT_TRUE(r.read_string(s));
  EXPECT_EQ(s, "x");
  ASSERT_TRUE(r.next_member(name));
  EXPECT_EQ(r.peek(), json_type::boolean);
  EXPECT_FALSE(r.read_null());
  ASSERT_TRUE(r.skip_value());
  EXPECT_FALSE(r.next_member(name));
  EXPECT_FALSE(r.failed()) << r.error();
  EXPECT_TRUE(r.end());
}

TEST(JsonReader, DecodesEscapes) {
  EXPECT_EQ(string_of(R"("\"\\\/\b\f\n\r\t")"), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(string_of(R"("\u0041\u00e9\u20AC")"), "A\xc3\xa9\xe2\x82\xac");
  EXPECT_EQ(string_of(R"("\u0000")"), std::string(1, '\0'));
  EXPECT_EQ(string_of(R"("\ud83d\ude00")"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(string_of(R"("\uDBFF\uDFFF")"), "\xf4\x8f\xbf\xbf");
}

TEST(JsonReader, RejectsBadEscapes) {
  for (auto* text : {R"("\x")", R"("\u12G4")", R"("\u12")", R"("\")", R"("\ud800")", R"("\udc00")",
                     R"("\ud800\u0041")", R"("\ud800x")", R"("\ud800\n")"})
    EXPECT_EQ(string_of(text), std::nullopt) << text;
  EXPECT_NE(error_of(R"("\ud800")").find("high surrogate"), std::string::npos);
  EXPECT_NE(error_of(R"("\udfff")").find("lone low surrogate"), std::string::npos);
}

TEST(JsonReader, RejectsRawControlCharactersInStrings) {
  EXPECT_EQ(string_of("\"a\nb\""), std::nullopt);
  EXPECT_EQ(string_of(std::string_view{"\"a\0b\"", 5}), std::nullopt);
  EXPECT_NE(error_of("\"a\tb\"").find("at byte 2: unescaped control"), std::string::npos);
}

TEST(JsonReader, PassesHighBytesThroughUnchecked) {
  EXPECT_EQ(string_of("\"\xff\xfe\x80\""), "\xff\xfe\x80");
}

TEST(JsonReader, EnforcesStringLimit) {
  json_reader r{R"("abcd" "abcde")", 4};
  std::string s;
  EXPECT_TRUE(r.read_string(s));
  EXPECT_FALSE(r.read_string(s));
  EXPECT_NE(r.error().find("string longer than 4 bytes"), std::string::npos) << r.error();
  json_reader wide{R"("abcdef")", 4};
  EXPECT_TRUE(wide.read_string(s, 6));
}

TEST(JsonReader, FollowsNumberGrammar) {
  for (auto* text : {"0", "-0", "7", "-12", "1.5", "0.25", "1e10", "1E+2", "-1.0e-3"})
    EXPECT_TRUE(valid(text)) << text;
  for (auto* text :
       {"01", "-01", "+1", "1.", ".5", "1e", "1e+", "-", "--1", "0x10", "1.e5", "NaN", "Infinity"})
    EXPECT_FALSE(valid(text)) << text;
}

TEST(JsonReader, ReadsUnsignedIntegersOnly) {
  EXPECT_EQ(uint_of("0"), 0u);
  EXPECT_EQ(uint_of("255", 255), 255u);
  EXPECT_EQ(uint_of("256", 255), std::nullopt);
  EXPECT_EQ(uint_of("7", 5), std::nullopt);
  EXPECT_EQ(uint_of("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(uint_of("18446744073709551616"), std::nullopt);
  EXPECT_EQ(uint_of("99999999999999999999999"), std::nullopt);
  for (auto* text : {"-1", "-0", "1.0", "1e2", "\"1\"", "true"})
    EXPECT_EQ(uint_of(text), std::nullopt) << text;
}

TEST(JsonReader, ReadsLiterals) {
  for (auto* text : {"true", "false", "null", " null "})
    EXPECT_TRUE(valid(text)) << text;
  for (auto* text : {"nul", "tru", "True", "nulll", "f"})
    EXPECT_FALSE(valid(text)) << text;
}

TEST(JsonReader, RejectsBrokenStructure) {
  for (auto* text : {"",
                     " ",
                     "{",
                     "}",
                     "[",
                     "[1,]",
                     "[,1]",
                     "[1 2]",
                     "{\"a\":1,}",
                     "{\"a\" 1}",
                     "{\"a\":}",
                     "{a:1}",
                     "{1:1}",
                     "{\"a\":1 \"b\":2}",
                     "{} x",
                     "{}{}",
                     "[1]]",
                     "// c\n{}",
                     "\xef\xbb\xbf{}",
                     "'a'"})
    EXPECT_FALSE(valid(text)) << text;
  for (auto* text : {"{}", "[]", " {\"a\" :\t[ ] }\r\n", "[[], {}, \"\"]"})
    EXPECT_TRUE(valid(text)) << text;
}

TEST(JsonReader, ReportsOffsetOfFirstError) {
  EXPECT_EQ(error_of("{\"a\":1,}"), "at byte 7: expected a member name");
  EXPECT_EQ(error_of("[1 2]"), "at byte 3: expected ',' or ']'");
  EXPECT_EQ(error_of("{} x"), "at byte 3: trailing characters after the JSON value");
}

TEST(JsonReader, LimitsNesting) {
  std::string deep(64, '[');
  deep += std::string(64, ']');
  EXPECT_TRUE(valid(deep, 64));
  EXPECT_FALSE(valid("[" + deep + "]", 64));
  EXPECT_NE(error_of(std::string(100000, '[')).find("nesting deeper than 64"), std::string::npos);
}

TEST(JsonReader, StopsAfterFirstError) {
  json_reader r{"[x] [1]"};
  EXPECT_FALSE(r.skip_value());
  auto first = r.error();
  EXPECT_FALSE(r.begin_array());
  std::string s;
  EXPECT_FALSE(r.read_string(s));
  EXPECT_EQ(r.error(), first);
}

TEST(JsonWriter, EscapesQuotesBackslashesAndControlBytes) {
  std::string out;
  mtcache::detail::write_json_string(out, std::string_view{"a\"b\\c\n\t\x01\0\x1f\x7f\xff/", 13});
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\t\\u0001\\u0000\\u001f\x7f\xff/\"");
  out.clear();
  mtcache::detail::write_json_uint(out, 18446744073709551615u);
  EXPECT_EQ(out, "18446744073709551615");
}

TEST(JsonWriter, EveryByteRoundTripsThroughReader) {
  std::string all;
  for (int b = 0; b < 256; ++b)
    all.push_back(static_cast<char>(b));
  std::string json;
  mtcache::detail::write_json_string(json, all);
  EXPECT_EQ(string_of(json), all);
}
