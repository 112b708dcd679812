#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtcache/messages/bytes.hpp"

namespace mtcache {

/// A value as the tiers keep it when it carries tags: a short header (a magic prefix, the
/// time it was written and its tags) in front of the caller's bytes. Tiers store it as opaque
/// bytes; the memory tier and the coordinator read the header to decide whether a tag removal
/// made after the write hides the value, and hand out the payload only. A value without tags
/// is stored as it is, unless it happens to start with the magic prefix: then it gets a header
/// with no tags, so that reading back is exact for every value.
struct tagged_value {
  /// When the value was written: unix time in microseconds at the writing node.
  int64_t created_us = 0;
  std::vector<std::string_view> tags;
  std::string_view payload;
};

/// Limits of what a tag may be: non-empty, at most `max_tag_bytes`, at most `max_tags` per
/// value (the header stores lengths and counts in 16 bits; tags also name keys in the
/// shared tiers, so they stay short).
constexpr size_t max_tag_bytes = 512;
constexpr size_t max_tags = 64;

/// Empty if `tags` are valid, else why not.
std::string check_tags(const std::vector<std::string>& tags);

/// Whether `stored` starts with the header (a cheap test on the hot read path).
bool has_tag_header(std::string_view stored) noexcept;

/// The form the tiers keep of `payload` written at `created_us` with `tags` (which must pass
/// `check_tags`): `payload` itself when there are no tags and it cannot be taken for a header.
bytes encode_tagged(std::string_view payload, const std::vector<std::string>& tags,
                    int64_t created_us);

/// Reads the header of a stored value; nullopt if it has none or the header is malformed
/// (the caller then treats the bytes as corrupt).
std::optional<tagged_value> decode_tagged(std::string_view stored);

/// The key under which a shared tier keeps the removal time of `tag`.
std::string tag_time_key(std::string_view tag);

} // namespace mtcache
