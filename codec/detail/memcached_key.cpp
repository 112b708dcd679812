#include "mtcache/codec/detail/memcached_key.hpp"

#include <cstdint>

#include <openssl/evp.h>

namespace mtcache::detail {

namespace {

constexpr unsigned char hashed_marker = 0xFF;

bool printable(std::string_view x) {
  for (auto c : x)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f)
      return false;
  return true;
}

bool needs_hash(std::string_view prefix, std::string_view key) {
  if (!key.empty() && static_cast<unsigned char>(key.front()) == hashed_marker)
    return true;
  auto size = prefix.size() + key.size();
  if (size == 0)
    return true;
  if (size <= memcached_max_binary_key_bytes)
    return false;
  return size > memcached_max_key_bytes || !printable(prefix) || !printable(key);
}

std::string hashed(std::string_view prefix, std::string_view key) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr);
  std::string out;
  out.reserve(prefix.size() + 1 + len);
  out.append(prefix);
  out.push_back(static_cast<char>(hashed_marker));
  out.append(reinterpret_cast<const char*>(digest), len);
  return out;
}

} // namespace

std::string memcached_stored_key(std::string_view prefix, std::string_view key) {
  if (needs_hash(prefix, key))
    return hashed(prefix, key);
  std::string out;
  out.reserve(prefix.size() + key.size());
  out.append(prefix);
  out.append(key);
  return out;
}

memcached_key to_memcached_key(std::string_view prefix, std::string_view key) {
  if (!needs_hash(prefix, key) && printable(prefix) && printable(key)) {
    memcached_key out;
    out.text.reserve(prefix.size() + key.size());
    out.text.append(prefix);
    out.text.append(key);
    return out;
  }
  return {base64_encode(memcached_stored_key(prefix, key)), true};
}

std::string base64_encode(std::string_view in) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    auto n = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    out.push_back(alphabet[n >> 18 & 63]);
    out.push_back(alphabet[n >> 12 & 63]);
    out.push_back(alphabet[n >> 6 & 63]);
    out.push_back(alphabet[n & 63]);
  }
  if (auto rest = in.size() - i; rest > 0) {
    auto n = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out.push_back(alphabet[n >> 18 & 63]);
    out.push_back(alphabet[n >> 12 & 63]);
    out.push_back(rest == 2 ? alphabet[n >> 6 & 63] : '=');
    out.push_back('=');
  }
  return out;
}

} // namespace mtcache::detail
