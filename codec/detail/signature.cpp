// Signed invalidation messages.
//
// The signature travels as the last member of the JSON object, so a signed message is still
// a message the crate can read. It must be the last member, in exactly the form `sign`
// writes: `verify` then recovers the signed bytes by cutting it out, without parsing or
// re-serialising the JSON (which would make the MAC depend on a canonical form).

#include "mtcache/codec/detail/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "mtcache/codec/detail/hex.hpp"

namespace mtcache::detail {

namespace {

constexpr std::string_view sig_open = "\"sig\":\"";
constexpr std::string_view sig_close = "\"}";
constexpr size_t sig_hex_digits = 64;
constexpr size_t sig_suffix_bytes = sig_open.size() + sig_hex_digits + sig_close.size();

bool is_json_whitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Whether `x` is `{` followed by whitespace only: the inside of an empty object.
bool opens_empty_object(std::string_view x) {
  if (x.empty() || x.front() != '{')
    return false;
  for (auto c : x.substr(1))
    if (!is_json_whitespace(c))
      return false;
  return true;
}

bool is_lower_hex(std::string_view x) {
  for (auto c : x)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

std::nullopt_t fail(std::string* error, std::string reason) {
  if (error)
    *error = std::move(reason);
  return std::nullopt;
}

} // namespace

std::string hmac_sha256_hex(std::string_view data, std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  // OpenSSL wants a non-null key pointer even for an empty key.
  static const unsigned char no_key = 0;
  auto* key_bytes = key.empty() ? &no_key : reinterpret_cast<const unsigned char*>(key.data());
  auto* data_bytes = data.empty() ? &no_key : reinterpret_cast<const unsigned char*>(data.data());
  if (!HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), data_bytes, data.size(), digest,
            &size))
    return {};
  std::string result;
  append_hex(result, std::string_view{reinterpret_cast<const char*>(digest), size});
  return result;
}

std::optional<std::string> sign(std::string_view payload, std::string_view secret,
                                std::string* error) {
  if (secret.empty())
    return fail(error, "empty secret");
  if (payload.size() < 2 || payload.front() != '{' || payload.back() != '}')
    return fail(error, "payload is not a JSON object (must start with '{' and end with '}')");
  auto mac = hmac_sha256_hex(payload, secret);
  if (mac.size() != sig_hex_digits)
    return fail(error, "HMAC-SHA256 failed");
  auto body = payload.substr(0, payload.size() - 1);
  std::string result{body};
  if (!opens_empty_object(body))
    result.push_back(',');
  result += sig_open;
  result += mac;
  result += sig_close;
  return result;
}

std::optional<std::string> verify(std::string_view wire, std::string_view secret,
                                  std::string* error) {
  if (secret.empty())
    return fail(error, "empty secret");
  auto has_suffix = wire.size() >= sig_suffix_bytes &&
                    wire.substr(wire.size() - sig_suffix_bytes, sig_open.size()) == sig_open;
  if (!has_suffix) {
    if (wire.find("\"sig\"") == std::string_view::npos)
      return fail(error, "missing signature");
    return fail(error, "malformed signature: expected \"sig\":\"<64 hex digits>\" as the last "
                       "member");
  }
  auto suffix_at = wire.size() - sig_suffix_bytes;
  auto suffix = wire.substr(suffix_at);
  auto mac = suffix.substr(sig_open.size(), sig_hex_digits);
  if (suffix.substr(sig_open.size() + sig_hex_digits) != sig_close || !is_lower_hex(mac))
    return fail(error, "malformed signature: expected 64 lowercase hex digits");
  auto body = wire.substr(0, suffix_at);
  std::string payload;
  if (!body.empty() && body.back() == ',')
    payload = std::string{body.substr(0, body.size() - 1)} + '}';
  else if (opens_empty_object(body))
    payload = std::string{body} + '}';
  else
    return fail(error, "malformed signature: not preceded by ',' or '{'");
  auto expected = hmac_sha256_hex(payload, secret);
  if (expected.size() != sig_hex_digits ||
      CRYPTO_memcmp(expected.data(), mac.data(), sig_hex_digits) != 0)
    return fail(error, "wrong signature");
  return payload;
}

} // namespace mtcache::detail
