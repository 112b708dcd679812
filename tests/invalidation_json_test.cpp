#include "mtcache/codec/detail/invalidation_json.hpp"

#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

using mtcache::bytes;
using mtcache::invalidation;
using mtcache::detail::decode_invalidation;
using mtcache::detail::encode_invalidation;
using mtcache::detail::invalidation_limits;
using mtcache::detail::value_encoding;
using kind = mtcache::invalidation::kind;

namespace {

invalidation remove_msg(std::string key) {
  invalidation x;
  x.type = kind::remove;
  x.key = std::move(key);
  return x;
}

invalidation update_msg(std::string key, std::string value, int64_t ttl_ms) {
  invalidation x;
  x.type = kind::update;
  x.key = std::move(key);
  x.value = bytes{value};
  x.ttl_ms = ttl_ms;
  return x;
}

invalidation pattern_msg(std::string pattern) {
  invalidation x;
  x.type = kind::remove_pattern;
  x.pattern = std::move(pattern);
  return x;
}

invalidation bulk_msg(std::vector<std::string> keys) {
  invalidation x;
  x.type = kind::remove_bulk;
  x.keys = std::move(keys);
  return x;
}

void expect_same(const invalidation& x, const invalidation& y) {
  EXPECT_EQ(x.type, y.type);
  EXPECT_EQ(x.key, y.key);
  EXPECT_EQ(x.keys, y.keys);
  EXPECT_EQ(x.pattern, y.pattern);
  EXPECT_EQ(x.value, y.value);
  EXPECT_EQ(x.ttl_ms, y.ttl_ms);
  EXPECT_EQ(x.origin, y.origin);
  EXPECT_EQ(x.seq, y.seq);
  EXPECT_EQ(x.epoch, y.epoch);
  EXPECT_EQ(x.from_seq, y.from_seq);
  EXPECT_EQ(x.ts_ms, y.ts_ms);
  EXPECT_EQ(x.reread, y.reread);
}

invalidation decoded(std::string_view json, const invalidation_limits& limits = {}) {
  std::string error;
  auto result = decode_invalidation(json, &error, limits);
  EXPECT_TRUE(result) << json << ": " << error;
  return result.value_or(invalidation{});
}

std::string rejection(std::string_view json, const invalidation_limits& limits = {}) {
  std::string error;
  auto result = decode_invalidation(json, &error, limits);
  EXPECT_FALSE(result) << json << " was accepted";
  EXPECT_FALSE(error.empty()) << json;
  return error;
}

} // namespace

namespace mtcache {

// Lets GoogleTest print values as text rather than as the handle's bytes.
void PrintTo(const bytes& x, std::ostream* os) {
  *os << ::testing::PrintToString(x.str());
}

} // namespace mtcache

TEST(InvalidationJson, EncodesCrateFormatByteForByte) {
  EXPECT_EQ(encode_invalidation(remove_msg("k")), R"({"type":"Remove","key":"k"})");
  EXPECT_EQ(encode_invalidation(update_msg("k", "ab", 300000)),
            R"({"type":"Update","key":"k","value":[97,98],"ttl_secs":300})");
  EXPECT_EQ(encode_invalidation(pattern_msg("user:*")),
            R"({"type":"RemovePattern","pattern":"user:*"})");
  EXPECT_EQ(encode_invalidation(bulk_msg({"a", "b"})), R"({"type":"RemoveBulk","keys":["a","b"]})");
}

TEST(InvalidationJson, DecodesCrateFormat) {
  expect_same(decoded(R"({"type":"Remove","key":"k"})"), remove_msg("k"));
  expect_same(decoded(R"({"type":"Update","key":"k","value":[97,98],"ttl_secs":300})"),
              update_msg("k", "ab", 300000));
  expect_same(decoded(R"({"type":"RemovePattern","pattern":"user:*"})"), pattern_msg("user:*"));
  expect_same(decoded(R"({"type":"RemoveBulk","keys":["a","b"]})"), bulk_msg({"a", "b"}));
}

TEST(InvalidationJson, OmitsTtlWithoutOne) {
  EXPECT_EQ(encode_invalidation(update_msg("k", "", -1)),
            R"({"type":"Update","key":"k","value":[]})");
  expect_same(decoded(R"({"type":"Update","key":"k","value":[]})"), update_msg("k", "", -1));
  expect_same(decoded(R"({"type":"Update","key":"k","value":[],"ttl_secs":null})"),
              update_msg("k", "", -1));
}

TEST(InvalidationJson, RoundsTtlUpAndKeepsExactMilliseconds) {
  EXPECT_EQ(encode_invalidation(update_msg("k", "", 1500)),
            R"({"type":"Update","key":"k","value":[],"ttl_secs":2,"ttl_ms":1500})");
  EXPECT_EQ(encode_invalidation(update_msg("k", "", 1)),
            R"({"type":"Update","key":"k","value":[],"ttl_secs":1,"ttl_ms":1})");
  EXPECT_EQ(encode_invalidation(update_msg("k", "", 0)),
            R"({"type":"Update","key":"k","value":[],"ttl_secs":0})");
  expect_same(decoded(R"({"type":"Update","key":"k","value":[],"ttl_secs":2,"ttl_ms":1500})"),
              update_msg("k", "", 1500));
  // ttl_ms wins wherever it stands.
  expect_same(decoded(R"({"ttl_ms":1500,"type":"Update","key":"k","value":[],"ttl_secs":9})"),
              update_msg("k", "", 1500));
}

TEST(InvalidationJson, SaturatesHugeTtlSecs) {
  auto x = decoded(R"({"type":"Update","key":"k","value":[],"ttl_secs":18446744073709551615})");
  EXPECT_EQ(x.ttl_ms, INT64_MAX);
  expect_same(decoded(encode_invalidation(x)), x);
}

TEST(InvalidationJson, AppendsOurFieldsAfterCrateFields) {
  auto x = update_msg("k", "a", 2500);
  x.origin = "node-1";
  x.seq = 42;
  x.ts_ms = 1700000000123;
  auto json = encode_invalidation(x);
  EXPECT_EQ(json, R"({"type":"Update","key":"k","value":[97],"ttl_secs":3,"origin":"node-1",)"
                  R"("seq":42,"ts":1700000000123,"ttl_ms":2500})");
  expect_same(decoded(json), x);
  auto y = remove_msg("k");
  y.origin = "n";
  EXPECT_EQ(encode_invalidation(y), R"({"type":"Remove","key":"k","origin":"n"})");
  expect_same(decoded(R"({"type":"Remove","key":"k","origin":null,"seq":null,"ts":null})"),
              remove_msg("k"));
}

TEST(InvalidationJson, ValueAsHexString) {
  expect_same(decoded(R"({"type":"Update","key":"k","value":"aabbcc0011ff"})"),
              update_msg("k", std::string("\xaa\xbb\xcc\x00\x11\xff", 6), -1));
  expect_same(decoded(R"({"type":"Update","key":"k","value":"AAbB"})"),
              update_msg("k", "\xaa\xbb", -1));
  expect_same(decoded(R"({"type":"Update","key":"k","value":""})"), update_msg("k", "", -1));
  auto x = update_msg("k", std::string("\x00\x7f\x80\xff", 4), 1000);
  auto hex = encode_invalidation(x, value_encoding::hex);
  EXPECT_EQ(hex, R"({"type":"Update","key":"k","value":"007f80ff","ttl_secs":1})");
  expect_same(decoded(hex), x);
}

TEST(InvalidationJson, AcceptsAnyFieldOrderAndWhitespace) {
  expect_same(
      decoded(
          " {\n \"key\" : \"k\",\t\"value\":[ 97 , 98 ],\"ttl_secs\":300,\"type\":\"Update\"} "),
      update_msg("k", "ab", 300000));
  expect_same(decoded(R"({"keys":[],"type":"RemoveBulk"})"), bulk_msg({}));
}

TEST(InvalidationJson, IgnoresUnknownFieldsOfAnyType) {
  expect_same(decoded(R"({"type":"Remove","x":{"a":[1,{"b":null}],"c":-1.5e3},"key":"k",)"
                      R"("y":[true,false,"s\"]"],"z":null,"pattern":5,"keys":{}})"),
              remove_msg("k"));
  // A field that belongs to another type is ignored, whatever its type, as serde does.
  expect_same(decoded(R"({"type":"RemovePattern","pattern":"p*","key":7,"value":"zz"})"),
              pattern_msg("p*"));
  expect_same(decoded(R"({"type":"Remove","key":"k","ttl_ms":"x","ttl_secs":[]})"),
              remove_msg("k"));
}

TEST(InvalidationJson, UnescapesStrings) {
  expect_same(decoded(R"({"type":"Remove","key":"a\"b\\c\u00e9\ud83d\ude00\n"})"),
              remove_msg("a\"b\\c\xc3\xa9\xf0\x9f\x98\x80\n"));
}

TEST(InvalidationJson, BinaryKeysRoundTrip) {
  std::string key;
  for (int b = 0; b < 256; ++b)
    key.push_back(static_cast<char>(b));
  auto x = bulk_msg({key, "", "\xff"});
  expect_same(decoded(encode_invalidation(x)), x);
  auto y = update_msg(key, key, 123);
  y.origin = key;
  expect_same(decoded(encode_invalidation(y)), y);
}

TEST(InvalidationJson, RejectsInvalidJson) {
  for (auto* json : {"", "nope", "[]", "\"Remove\"", R"({"type":"Remove","key":"k")",
                     R"({"type":"Remove","key":"k",})", R"({"type":"Remove" "key":"k"})",
                     R"({"type":"Remove","key":"k"} x)", R"({"type":"Remove","key":"k"}{})",
                     R"({"type":"Remove","key":"\q"})", R"({"type":"Remove","key":"k","x":01})"}) {
    auto error = rejection(json);
    EXPECT_EQ(error.find("invalid message: at byte "), 0u) << json << ": " << error;
  }
}

TEST(InvalidationJson, RejectsMissingOrUnknownType) {
  EXPECT_EQ(rejection(R"({"key":"k"})"), "missing field 'type'");
  EXPECT_EQ(rejection(R"({"type":"Delete","key":"k"})"),
            "unknown type 'Delete' (expected Remove, Update, RemovePattern, RemoveBulk, "
            "RemoveTag or Clear)");
  EXPECT_EQ(rejection(R"({"type":"remove","key":"k"})").find("unknown type 'remove'"), 0u);
  EXPECT_EQ(rejection(R"({"type":"\u0000x","key":"k"})").find("unknown type '?x'"), 0u);
  EXPECT_NE(rejection(R"({"type":1,"key":"k"})").find("field 'type' must be a string"),
            std::string::npos);
  EXPECT_NE(
      rejection(R"({"type":"Remove","type":"Remove","key":"k"})").find("duplicate field 'type'"),
      std::string::npos);
}

TEST(InvalidationJson, TagRemovalsAndClearsRoundTrip) {
  invalidation tag;
  tag.type = kind::remove_tag;
  tag.key = "user:42";
  tag.removed_us = 1764680000123456;
  auto json = encode_invalidation(tag);
  EXPECT_EQ(json, R"({"type":"RemoveTag","tag":"user:42","removed_us":1764680000123456})");
  auto back = decode_invalidation(json);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, kind::remove_tag);
  EXPECT_EQ(back->key, "user:42");
  EXPECT_EQ(back->removed_us, 1764680000123456);
  invalidation clear;
  clear.type = kind::clear;
  clear.seq = 7;
  auto cleared = decode_invalidation(encode_invalidation(clear));
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->type, kind::clear);
  EXPECT_EQ(cleared->seq, 7u);
  std::string error;
  EXPECT_FALSE(decode_invalidation(R"({"type":"RemoveTag","removed_us":1})", &error));
  EXPECT_NE(error.find("'tag'"), std::string::npos) << error;
}

TEST(InvalidationJson, RejectsMissingRequiredFields) {
  EXPECT_EQ(rejection(R"({"type":"Remove"})"), "missing field 'key' in Remove");
  EXPECT_EQ(rejection(R"({"type":"Update","key":"k"})"), "missing field 'value' in Update");
  EXPECT_EQ(rejection(R"({"type":"Update","value":[]})"), "missing field 'key' in Update");
  EXPECT_EQ(rejection(R"({"type":"RemovePattern","key":"k"})"),
            "missing field 'pattern' in RemovePattern");
  EXPECT_EQ(rejection(R"({"type":"RemoveBulk","key":"k"})"), "missing field 'keys' in RemoveBulk");
}

TEST(InvalidationJson, RejectsWrongFieldTypes) {
  struct row {
    const char* json;
    const char* reason;
  };
  std::vector<row> rows{
      {R"({"type":"Remove","key":1})", "field 'key': at byte 23: expected a string"},
      {R"({"type":"Remove","key":null})", "field 'key': at byte 23: expected a string"},
      {R"({"type":"RemovePattern","pattern":["a"]})",
       "field 'pattern': at byte 34: expected a string"},
      {R"({"type":"RemoveBulk","keys":"a"})",
       "field 'keys': at byte 28: expected an array of strings"},
      {R"({"type":"RemoveBulk","keys":["a",1]})", "field 'keys': at byte 33: expected a string"},
      {R"({"type":"Update","key":"k","value":null})", "expected an array of bytes or a hex string"},
      {R"({"type":"Update","key":"k","value":{}})", "expected an array of bytes or a hex string"},
      {R"({"type":"Update","key":"k","value":[256]})", "integer out of range 0..255"},
      {R"({"type":"Update","key":"k","value":[-1]})", "expected a non-negative integer"},
      {R"({"type":"Update","key":"k","value":[1.0]})", "expected a non-negative integer"},
      {R"({"type":"Update","key":"k","value":["a"]})", "expected an integer 0..255"},
      {R"({"type":"Update","key":"k","value":"abc"})", "odd number of digits"},
      {R"({"type":"Update","key":"k","value":"zz"})", "non-hex digit"},
      {R"({"type":"Update","key":"k","value":[],"ttl_secs":-1})",
       "expected a non-negative integer"},
      {R"({"type":"Update","key":"k","value":[],"ttl_secs":1.5})",
       "expected a non-negative integer"},
      {R"({"type":"Update","key":"k","value":[],"ttl_secs":"300"})", "field 'ttl_secs': at byte"},
      {R"({"type":"Update","key":"k","value":[],"ttl_ms":9223372036854775808})", "out of range"},
      {R"({"type":"Remove","key":"k","seq":"1"})",
       "field 'seq': at byte 33: expected an integer or null"},
      {R"({"type":"Remove","key":"k","seq":18446744073709551616})", "out of range"},
      {R"({"type":"Remove","key":"k","ts":-5})", "field 'ts'"},
      {R"({"type":"Remove","key":"k","origin":5})", "field 'origin'"},
  };
  for (auto& r : rows) {
    auto error = rejection(r.json);
    EXPECT_NE(error.find(r.reason), std::string::npos)
        << r.json << ": got '" << error << "', want '" << r.reason << "'";
  }
}

TEST(InvalidationJson, RejectsRepeatedKnownFields) {
  EXPECT_EQ(rejection(R"({"type":"Remove","key":"a","key":"b"})"), "duplicate field 'key'");
  EXPECT_EQ(rejection(R"({"type":"Update","key":"k","value":[],"value":[1]})"),
            "duplicate field 'value'");
  EXPECT_EQ(rejection(R"({"type":"Remove","key":"k","seq":1,"seq":1})"), "duplicate field 'seq'");
  // Unknown fields may repeat.
  expect_same(decoded(R"({"type":"Remove","key":"k","x":1,"x":2})"), remove_msg("k"));
}

TEST(InvalidationJson, EnforcesLimits) {
  invalidation_limits limits;
  limits.max_message_bytes = 40;
  EXPECT_TRUE(decode_invalidation(R"({"type":"Remove","key":"k"})", nullptr, limits));
  EXPECT_EQ(rejection(R"({"type":"Remove","key":"0123456789abcdef"})", limits),
            "message is 42 bytes, over the limit of 40");

  limits = {};
  limits.max_bulk_keys = 2;
  EXPECT_TRUE(decode_invalidation(R"({"type":"RemoveBulk","keys":["a","b"]})", nullptr, limits));
  EXPECT_NE(
      rejection(R"({"type":"RemoveBulk","keys":["a","b","c"]})", limits).find("more than 2 keys"),
      std::string::npos);

  limits = {};
  limits.max_string_bytes = 3;
  EXPECT_TRUE(decode_invalidation(R"({"type":"Remove","key":"abc"})", nullptr, limits));
  EXPECT_NE(rejection(R"({"type":"Remove","key":"abcd"})", limits).find("string longer than 3"),
            std::string::npos);
  // The value is bounded by the message size only.
  EXPECT_TRUE(
      decode_invalidation(R"({"type":"Update","key":"k","value":"00112233"})", nullptr, limits));

  limits = {};
  limits.max_depth = 3;
  EXPECT_TRUE(decode_invalidation(R"({"type":"Remove","key":"k","x":[[1]]})", nullptr, limits));
  EXPECT_NE(rejection(R"({"type":"Remove","key":"k","x":[[[1]]]})", limits).find("nesting deeper"),
            std::string::npos);
}

TEST(InvalidationJson, DefaultLimitAcceptsOneMebibyte) {
  std::string json = R"({"type":"Remove","key":"k","pad":")";
  json += std::string(1024 * 1024 - json.size() - 2, 'x');
  json += "\"}";
  ASSERT_EQ(json.size(), 1024u * 1024u);
  EXPECT_TRUE(decode_invalidation(json));
  json.insert(json.size() - 2, "x");
  EXPECT_NE(rejection(json).find("over the limit of 1048576"), std::string::npos);
}

TEST(InvalidationJson, CarriesEpochAndTheRangeACompactedMessageCovers) {
  auto x = bulk_msg({"a", "b"});
  x.origin = "n";
  x.seq = 9;
  x.epoch = 1700000000000;
  x.from_seq = 3;
  auto json = encode_invalidation(x);
  EXPECT_EQ(json, R"({"type":"RemoveBulk","keys":["a","b"],"origin":"n","seq":9,)"
                  R"("epoch":1700000000000,"from":3})");
  expect_same(decoded(json), x);
  // "from" equal to "seq" says nothing more and is left out.
  x.from_seq = 9;
  EXPECT_EQ(encode_invalidation(x).find("from"), std::string::npos);
  EXPECT_EQ(decoded(R"({"type":"Remove","key":"k","epoch":null,"from":null})").epoch, 0u);
  x.from_seq = 0;
  x.reread = true;
  EXPECT_NE(encode_invalidation(x).find(R"("reread":true)"), std::string::npos);
  expect_same(decoded(encode_invalidation(x)), x);
  EXPECT_FALSE(decoded(R"({"type":"Remove","key":"k","reread":false})").reread);
  EXPECT_FALSE(decoded(R"({"type":"Remove","key":"k","reread":null})").reread);
  EXPECT_NE(rejection(R"({"type":"Remove","key":"k","reread":1})").find("field 'reread'"),
            std::string::npos);
  EXPECT_NE(rejection(R"({"type":"Remove","key":"k","from":-1})").find("field 'from'"),
            std::string::npos);
}

TEST(InvalidationJson, HeaderOfAnOversizedUpdateIsARemoveOfItsKey) {
  auto x = update_msg("big", std::string(4096, 'v'), 60000);
  x.origin = "n";
  x.seq = 7;
  x.epoch = 5;
  auto json = encode_invalidation(x);
  invalidation_limits limits;
  limits.max_message_bytes = 1024;
  EXPECT_NE(rejection(json, limits).find("over the limit"), std::string::npos);
  std::string error;
  auto header = decode_invalidation_header(json, &error, limits);
  ASSERT_TRUE(header) << error;
  EXPECT_EQ(header->type, kind::remove);
  EXPECT_EQ(header->key, "big");
  EXPECT_TRUE(header->value.empty());
  EXPECT_EQ(header->ttl_ms, -1);
  EXPECT_EQ(header->origin, "n");
  EXPECT_EQ(header->seq, 7u);
  EXPECT_EQ(header->epoch, 5u);
  // Only the size limit is lifted: malformed JSON and other limits still reject.
  EXPECT_FALSE(decode_invalidation_header(json.substr(0, 2000), nullptr, limits));
  limits.max_string_bytes = 2;
  EXPECT_FALSE(decode_invalidation_header(json, nullptr, limits));
}
