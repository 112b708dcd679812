#include "mtcache/codec/tagged_value.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

using namespace mtcache;

namespace {

std::vector<std::string> strings(const std::vector<std::string_view>& xs) {
  return {xs.begin(), xs.end()};
}

TEST(TaggedValue, CarriesTagsWriteTimeAndPayload) {
  auto stored = encode_tagged("payload", {"a", "user:42"}, 1764680000123456);
  ASSERT_TRUE(has_tag_header(stored.view()));
  auto back = decode_tagged(stored.view());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->created_us, 1764680000123456);
  EXPECT_EQ(strings(back->tags), (std::vector<std::string>{"a", "user:42"}));
  EXPECT_EQ(back->payload, "payload");
}

TEST(TaggedValue, AValueWithoutTagsIsStoredAsItIs) {
  auto stored = encode_tagged("{\"json\":1}", {}, 5);
  EXPECT_EQ(stored.view(), "{\"json\":1}");
  EXPECT_FALSE(has_tag_header(stored.view()));
  EXPECT_FALSE(decode_tagged(stored.view()));
}

TEST(TaggedValue, AValueThatLooksLikeAHeaderIsWrappedSoItReadsBackExactly) {
  auto tricky = encode_tagged("x", {"t"}, 1).str();
  auto stored = encode_tagged(tricky, {}, 0);
  EXPECT_NE(stored.view(), tricky);
  auto back = decode_tagged(stored.view());
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->tags.empty());
  EXPECT_EQ(back->payload, tricky);
}

TEST(TaggedValue, EmptyPayloadAndBinaryTags) {
  std::string binary{"\0\xff tag", 6};
  auto back = decode_tagged(encode_tagged("", {binary}, 9).view());
  ASSERT_TRUE(back);
  EXPECT_EQ(strings(back->tags), std::vector<std::string>{binary});
  EXPECT_TRUE(back->payload.empty());
}

TEST(TaggedValue, AMalformedHeaderDoesNotDecode) {
  auto stored = encode_tagged("payload", {"tag"}, 1).str();
  // Cut inside the tag.
  EXPECT_FALSE(decode_tagged(std::string_view{stored}.substr(0, 18)));
  // Only the magic.
  EXPECT_FALSE(decode_tagged(std::string_view{stored}.substr(0, 5)));
  // A zero-length tag.
  auto zero = stored;
  zero[15] = 0;
  zero[16] = 0;
  EXPECT_FALSE(decode_tagged(zero));
}

TEST(TaggedValue, ChecksTagLimits) {
  EXPECT_EQ(check_tags({"a", "b"}), "");
  EXPECT_NE(check_tags({""}), "");
  EXPECT_NE(check_tags({std::string(max_tag_bytes + 1, 'x')}), "");
  EXPECT_NE(check_tags(std::vector<std::string>(max_tags + 1, "t")), "");
  EXPECT_EQ(check_tags({std::string(max_tag_bytes, 'x')}), "");
}

TEST(TaggedValue, TagTimeKeysCannotBeAnotherTagsKey) {
  EXPECT_EQ(tag_time_key("a"), (std::string{"\0mtcache:tag\0a", 14}));
  EXPECT_NE(tag_time_key("a:b"), tag_time_key("a"));
}

} // namespace
