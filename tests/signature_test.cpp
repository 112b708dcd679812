#include "mtcache/codec/detail/signature.hpp"

#include <cctype>
#include <string>

#include <gtest/gtest.h>

#include "mtcache/codec/detail/invalidation_json.hpp"

using mtcache::detail::hmac_sha256_hex;
using mtcache::detail::sign;
using mtcache::detail::verify;

namespace {

constexpr std::string_view payload = R"({"type":"Remove","key":"k"})";
constexpr std::string_view secret = "s3cret";

std::string signed_payload() {
  auto result = sign(payload, secret);
  EXPECT_TRUE(result);
  return result.value_or("");
}

std::string verify_error(std::string_view wire, std::string_view key = secret) {
  std::string error;
  EXPECT_FALSE(verify(wire, key, &error)) << wire;
  return error;
}

} // namespace

TEST(Signature, MatchesRfc4231Vectors) {
  // Test case 1
  EXPECT_EQ(hmac_sha256_hex("Hi There", std::string(20, '\x0b')),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2
  EXPECT_EQ(hmac_sha256_hex("what do ya want for nothing?", "Jefe"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 6: a key longer than the block size is hashed first.
  EXPECT_EQ(hmac_sha256_hex("Test Using Larger Than Block-Size Key - Hash Key First",
                            std::string(131, '\xaa')),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(Signature, AppendsSigBeforeClosingBrace) {
  auto wire = signed_payload();
  EXPECT_EQ(wire,
            R"({"type":"Remove","key":"k","sig":")" + hmac_sha256_hex(payload, secret) + "\"}");
}

TEST(Signature, VerifyReturnsUnsignedPayload) {
  std::string error;
  auto result = verify(signed_payload(), secret, &error);
  ASSERT_TRUE(result) << error;
  EXPECT_EQ(*result, payload);
}

TEST(Signature, SignsEmptyObjectWithoutComma) {
  auto wire = sign("{ }", secret);
  ASSERT_TRUE(wire);
  EXPECT_EQ(*wire, R"({ "sig":")" + hmac_sha256_hex("{ }", secret) + "\"}");
  EXPECT_EQ(verify(*wire, secret), "{ }");
}

TEST(Signature, CrateIgnoresTheExtraField) {
  auto x = mtcache::detail::decode_invalidation(signed_payload());
  ASSERT_TRUE(x);
  EXPECT_EQ(x->key, "k");
}

TEST(Signature, RejectsTamperedMessage) {
  auto wire = signed_payload();
  wire[wire.find("\"k\"") + 1] = 'j';
  EXPECT_EQ(verify_error(wire), "wrong signature");
  auto sig_at = signed_payload().size() - 3;
  auto flipped = signed_payload();
  flipped[sig_at] = flipped[sig_at] == '0' ? '1' : '0';
  EXPECT_EQ(verify_error(flipped), "wrong signature");
}

TEST(Signature, RejectsWrongSecret) {
  EXPECT_EQ(verify_error(signed_payload(), "other"), "wrong signature");
}

TEST(Signature, RejectsMissingSignature) {
  EXPECT_EQ(verify_error(payload), "missing signature");
  EXPECT_EQ(verify_error(""), "missing signature");
}

TEST(Signature, RejectsMalformedSignature) {
  auto wire = signed_payload();
  auto mac = hmac_sha256_hex(payload, secret);
  std::string upper = wire;
  for (auto i = upper.size() - 66; i < upper.size() - 2; ++i)
    upper[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(upper[i])));
  std::string short_mac = R"({"type":"Remove","key":"k","sig":")" + mac.substr(1) + "\"}";
  std::string not_last = R"({"sig":")" + mac + R"(","type":"Remove","key":"k"})";
  std::string number = R"({"type":"Remove","key":"k","sig":5})";
  std::string spaced = R"({"type":"Remove","key":"k", "sig":")" + mac + "\" }";
  std::string no_comma = R"({"type":"Remove","key":"k""sig":")" + mac + "\"}";
  ASSERT_NE(upper, wire) << "the MAC has no letter to upper-case";
  EXPECT_NE(verify_error(upper).find("malformed signature"), std::string::npos);
  for (auto& w : {short_mac, not_last, number, spaced, no_comma})
    EXPECT_NE(verify_error(w).find("malformed signature"), std::string::npos) << w;
}

// Found by the fuzzer: a message shorter than a signature that starts like one.
TEST(Signature, ShortMessageStartingWithSigIsMalformed) {
  EXPECT_NE(verify_error(R"("sig":"{"type":"Remove"})").find("malformed signature"),
            std::string::npos);
  EXPECT_NE(verify_error(R"("sig":")").find("malformed signature"), std::string::npos);
}

TEST(Signature, RejectsEmptySecretAndNonObjects) {
  std::string error;
  EXPECT_FALSE(sign(payload, "", &error));
  EXPECT_EQ(error, "empty secret");
  EXPECT_FALSE(verify(signed_payload(), "", &error));
  EXPECT_EQ(error, "empty secret");
  for (auto* p : {"", "{", "[1]", "{} ", "\"x\""}) {
    EXPECT_FALSE(sign(p, secret, &error)) << p;
    EXPECT_NE(error.find("not a JSON object"), std::string::npos) << p;
  }
}
