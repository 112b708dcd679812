#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mtcache/messages/invalidation.hpp"

namespace mtcache::detail {

/// Bounds on a decoded invalidation message; anything beyond is rejected.
struct invalidation_limits {
  /// Size of the whole message.
  size_t max_message_bytes = 1024 * 1024;
  /// Keys in one RemoveBulk.
  size_t max_bulk_keys = 10000;
  /// Bytes of one key, pattern or origin after unescaping (the value is bounded only by
  /// the message size).
  size_t max_string_bytes = 64 * 1024;
  /// Nesting of unknown fields' values that are skipped.
  size_t max_depth = 32;
};

/// How `encode_invalidation` writes an Update's value.
enum class value_encoding : uint8_t {
  /// `[97,98]`: what multi-tier-cache 0.6.5 reads.
  array,
  /// `"6162"`: lowercase hex, as later crate versions send.
  hex,
};

/// The JSON the multi-tier-cache crate publishes and reads, fields in its order:
///
///     {"type":"Remove","key":"k"}
///     {"type":"Update","key":"k","value":[97,98],"ttl_secs":300}
///     {"type":"RemovePattern","pattern":"user:*"}
///     {"type":"RemoveBulk","keys":["a","b"]}
///
/// `ttl_secs` is the TTL rounded up to whole seconds and is left out without a TTL. Our own
/// fields follow, each left out when empty or zero: `"origin"`, `"seq"`, `"ts"` (unix ms),
/// `"epoch"`, `"reread"` (only when true), `"from"` (only when it differs from `seq`), and
/// `"ttl_ms"` when the TTL is not a whole number of seconds. The crate ignores them.
std::string encode_invalidation(const invalidation& x,
                                value_encoding encoding = value_encoding::array);

/// Parses one message. Fields may come in any order and unknown fields of any type are
/// skipped; `value` may be an array of 0..255 or a hex string (either case); `null` counts
/// as absent for the optional fields; `ttl_ms` wins over `ttl_secs`; fields that belong to
/// another type are ignored, as the crate's serde does. Rejects, with the reason in `*error`
/// (if given): invalid or non-object JSON, trailing garbage, a missing or unknown `type`,
/// missing required fields, wrong field types, repeated known fields, and exceeded limits.
std::optional<invalidation> decode_invalidation(std::string_view json, std::string* error = nullptr,
                                                const invalidation_limits& limits = {});

/// What a message too large to accept still says: the same parse without the size limit,
/// skipping an Update's value and returning it as a Remove of its key, so that a receiver
/// can drop its copy of the key (and notice the sequence number) instead of ignoring the
/// message altogether. Every other limit applies.
std::optional<invalidation> decode_invalidation_header(std::string_view json,
                                                       std::string* error = nullptr,
                                                       const invalidation_limits& limits = {});

} // namespace mtcache::detail
