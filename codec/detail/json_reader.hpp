#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mtcache::detail {

/// The kind of a JSON value, as its first byte tells.
enum class json_type : uint8_t { object, array, string, number, boolean, null };

/// A strict pull reader for RFC 8259 JSON over a byte buffer, without a document tree.
///
/// The caller walks the input: `begin_object` then `next_member` until it returns false,
/// `begin_array` then `next_element` likewise, and reads or skips every value. Each call
/// returns false on bad input and records the first error with its byte offset; after that
/// every call fails. Strictness: no comments, no trailing commas, no leading zeros or `+`,
/// no raw control characters in strings, surrogate pairs must pair up. Bytes >= 0x80 are
/// taken as they are (not validated as UTF-8), so arbitrary binary keys round-trip.
class json_reader {
public:
  /// `max_string_bytes` bounds every decoded string; `max_depth` bounds nesting.
  explicit json_reader(std::string_view input, size_t max_string_bytes = SIZE_MAX,
                       size_t max_depth = 64);

  /// The type of the next value; nothing (and an error) if no value starts here.
  std::optional<json_type> peek();

  /// Consumes `{`.
  bool begin_object();

  /// Moves to the next member of the innermost object: true with the member's name in
  /// `name` (its `:` consumed, the value next), false after the closing `}` or on error.
  bool next_member(std::string& name);

  /// Consumes `[`.
  bool begin_array();

  /// Moves to the next element of the innermost array: true if one follows, false after
  /// the closing `]` or on error.
  bool next_element();

  /// Reads a string into `out`, failing if it decodes to more than `max_bytes` (or the
  /// reader's `max_string_bytes` when 0).
  bool read_string(std::string& out, size_t max_bytes = 0);

  /// Reads a number that must be an integer in 0..`max`: no sign, fraction or exponent.
  bool read_uint(uint64_t& out, uint64_t max = UINT64_MAX);

  /// Consumes `null` if it comes next; false otherwise (not an error).
  bool read_null();

  /// Reads `true` or `false`.
  bool read_bool(bool& out);

  /// Skips any one value, nested ones included (up to the depth limit).
  bool skip_value();

  /// Succeeds if nothing but whitespace remains.
  bool end();

  /// Records `reason` at the current offset (unless an error is already recorded).
  bool fail(std::string_view reason);

  bool failed() const noexcept { return !error_.empty(); }

  /// The first error, "at byte N: reason".
  const std::string& error() const noexcept { return error_; }

private:
  void skip_whitespace();
  bool consume_literal(std::string_view word);
  bool scan_string(std::string* out, size_t max_bytes);
  bool read_escape(std::string* out);
  bool read_hex4(uint32_t& out);
  bool scan_number(bool& integer);
  bool open(char bracket);
  bool next(char close, bool& more);

  std::string_view in_;
  size_t pos_ = 0;
  size_t max_string_bytes_;
  size_t max_depth_;
  // One entry per open container: whether it has produced no member or element yet.
  std::vector<bool> fresh_;
  std::string error_;
};

} // namespace mtcache::detail
