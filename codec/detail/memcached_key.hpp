#pragma once

// How a cache key becomes a memcached key.
//
// memcached's text and meta protocols take keys of 1..250 bytes without spaces or control
// bytes; every key the memory tier takes (any bytes, up to max_key_bytes, 1 KiB by default)
// must work here too. With the tier's prefix P and the key K, the stored key is:
//
// - P+K as it is, when it is 1..250 printable ASCII bytes (0x21..0x7e): what every other
//   client sends for the same name;
// - P+K as it is, sent base64-encoded with the meta protocol's `b` flag, when it holds other
//   bytes (spaces, control bytes, UTF-8, binary) and is at most 186 bytes long (its base64
//   form then fits 250): memcached decodes and stores the very bytes, so a client that
//   sends them raw (binary protocol, or `b` as here) reads the same item;
// - P + 0xFF + SHA-256(K) (33 bytes after the prefix, sent with `b`) when it is longer, or
//   when K itself starts with 0xFF. No key of the first two kinds starts with 0xFF after
//   the prefix, so the hashed keys cannot collide with them; two hashed keys collide only
//   if SHA-256 does. Such keys cannot be addressed by other clients without this rule.
//
// The prefix is at most `max_prefix_bytes`, so that every hashed key fits.

#include <cstddef>
#include <string>
#include <string_view>

namespace mtcache::detail {

struct memcached_key {
  /// What the command line carries: the stored key, or its base64 form when `binary`.
  std::string text;
  /// `text` is base64: the command gets the `b` flag.
  bool binary = false;
};

/// memcached's limit on a key (KEY_MAX_LENGTH).
constexpr size_t memcached_max_key_bytes = 250;

/// The longest stored key whose base64 form fits `memcached_max_key_bytes`.
constexpr size_t memcached_max_binary_key_bytes = 186;

/// Longest key prefix: a hashed key (prefix, 0xFF, 32 bytes of SHA-256) must stay binary-sendable.
constexpr size_t memcached_max_prefix_bytes = 128;

/// The bytes memcached stores for `key` under `prefix` (what ketama hashes).
std::string memcached_stored_key(std::string_view prefix, std::string_view key);

/// `key` under `prefix` as a command sends it.
memcached_key to_memcached_key(std::string_view prefix, std::string_view key);

/// Standard base64 with padding, as memcached's `b` flag decodes it.
std::string base64_encode(std::string_view in);

} // namespace mtcache::detail
