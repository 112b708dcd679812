#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mtcache::detail {

/// A compiled Redis glob: the patterns of `KEYS`, `SCAN … MATCH` and `PSUBSCRIBE`, with the
/// semantics of Redis 7.0 `stringmatchlen` (case-sensitive), on bytes.
///
/// - `*` matches any run of bytes, `?` exactly one byte.
/// - `[abc]`, `[^abc]` and ranges `[a-z]` match one byte. A reversed range `[z-a]` is the
///   same as `[a-z]`. Range ends compare as signed `char`, as Redis does on x86-64: `[a-\xff]`
///   is the range -1..97, i.e. `\xff` and `\x00`..`a`, not `\x80`..`\xff`.
/// - `\x` matches `x` literally, also inside brackets (where it is never a range end).
///   A trailing `\` matches a backslash.
/// - `]` right after `[` or `[^` closes the set: `[]` matches nothing, `[^]` any byte.
/// - An unterminated `[` takes the rest of the pattern as its set: `[a-z` is `[a-z]`, `[`
///   matches nothing, `[^` matches any byte.
/// - `[a-]` is a range from `a` to `]` (no closing bracket follows), as in Redis.
/// - The empty key is matched only by the empty pattern and by `*` (which KEYS and SCAN
///   treat as "everything"); `**` or `a*` do not match it, as in Redis.
///
/// Every pattern is valid for Redis; compilation only fails on the length guard and on more
/// than 1000 star groups (Redis stops matching beyond 1000 nested stars, so such patterns
/// would behave differently there). Matching is greedy with one backtrack point: O(key ×
/// pattern) in the worst case, where Redis' recursion was exponential before 7.0.9.
class glob {
public:
  /// Patterns longer than this are rejected unless the caller gives another bound.
  static constexpr size_t default_max_pattern_bytes = 4096;

  /// Redis 7.0.9+ returns "no match" beyond this nesting of `*` (util.c).
  static constexpr size_t max_star_groups = 1000;

  /// Compiles `pattern`. Returns nothing and sets `*error` (if given) when the pattern is
  /// longer than `max_pattern_bytes` or has too many stars.
  static std::optional<glob> compile(std::string_view pattern, std::string* error = nullptr,
                                     size_t max_pattern_bytes = default_max_pattern_bytes);

  /// A pattern that matches exactly `key`: `*`, `?`, `[`, `]` and `\` get a backslash.
  static std::string escape(std::string_view key);

  /// Whether `key` matches, as Redis KEYS would decide.
  bool matches(std::string_view key) const;

  /// Whether every non-empty key matches (the pattern is one or more `*`).
  bool matches_everything() const;

  /// Whether the pattern has no wildcard, so it matches exactly `literal_prefix()`.
  bool is_literal() const;

  /// The bytes every matching key starts with (escapes resolved): `user\*:*` gives `user*:`.
  std::string literal_prefix() const;

  /// The source pattern.
  const std::string& pattern() const noexcept { return pattern_; }

private:
  enum class token_kind : uint8_t { star, any, byte, set };

  struct token {
    token_kind kind;
    uint8_t byte;
    uint32_t set;
  };

  glob() = default;

  bool matches_token(const token& t, unsigned char c) const;

  std::string pattern_;
  std::vector<token> tokens_;
  std::vector<std::bitset<256>> sets_;
};

} // namespace mtcache::detail
