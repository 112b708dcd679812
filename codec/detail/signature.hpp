#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mtcache::detail {

/// HMAC-SHA256 of `data` under `key`, as 64 lowercase hex digits (OpenSSL libcrypto).
std::string hmac_sha256_hex(std::string_view data, std::string_view key);

/// Signs a JSON object for the invalidation channel: returns `payload` with
/// `,"sig":"<64 lowercase hex>"` inserted before its final `}` (no comma for an empty
/// object), where the HMAC-SHA256 covers the unsigned payload bytes. Peers that do not know
/// signatures (the Rust crate) ignore the extra field. Fails, with the reason in `*error`
/// (if given), on an empty secret or a payload that does not start with `{` and end with `}`.
///
/// The signature authenticates the sender, not freshness: a recorded message can be
/// replayed, so receivers that care must also check `seq` / `ts`.
std::optional<std::string> sign(std::string_view payload, std::string_view secret,
                                std::string* error = nullptr);

/// Checks a message produced by `sign` and returns the unsigned payload. Fails with
/// "missing signature", "malformed signature …" or "wrong signature" (or "empty secret").
/// The digests are compared in constant time.
std::optional<std::string> verify(std::string_view wire, std::string_view secret,
                                  std::string* error = nullptr);

} // namespace mtcache::detail
