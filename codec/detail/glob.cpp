// Compiling a Redis glob.
//
// Redis (util.c, stringmatchlen) interprets the pattern while it walks the key and recurses
// at every `*`. Everything except `*` consumes exactly one key byte, and how a bracket
// expression parses never depends on the key, so the pattern compiles once into a token
// list: star, any byte, one byte, or a 256-bit set. Matching one-byte tokens with stars in
// between is the classic wildcard problem, which the greedy algorithm with one backtrack
// point (resume after the last star, one key byte further) solves in O(key × tokens).
//
// The bracket parser follows Redis step by step, including its quirks: `]` directly after
// `[` closes the set; `\` escapes inside the set unless it is the last pattern byte; `x-y`
// is a range whenever two more bytes follow `x`, even when `y` is `]`; ranges compare signed
// chars; an unterminated set ends with the pattern.

#include "mtcache/codec/detail/glob.hpp"

#include <algorithm>

namespace mtcache::detail {

namespace {

void add_range(std::bitset<256>& set, char first, char last) {
  // Redis stores both ends and the key byte in an int from a (signed) char.
  int lo = static_cast<signed char>(first);
  int hi = static_cast<signed char>(last);
  if (lo > hi)
    std::swap(lo, hi);
  for (int b = 0; b < 256; ++b) {
    int c = static_cast<signed char>(static_cast<unsigned char>(b));
    if (c >= lo && c <= hi)
      set.set(static_cast<size_t>(b));
  }
}

// Parses the bracket expression that starts after `[` at `pattern[i]`; returns the index
// after it.
size_t parse_set(std::string_view pattern, size_t i, std::bitset<256>& set) {
  auto n = pattern.size();
  bool negate = i < n && pattern[i] == '^';
  if (negate)
    ++i;
  while (i < n) {
    auto c = pattern[i];
    if (c == '\\' && n - i >= 2) {
      set.set(static_cast<unsigned char>(pattern[i + 1]));
      i += 2;
    } else if (c == ']') {
      ++i;
      break;
    } else if (n - i >= 3 && pattern[i + 1] == '-') {
      add_range(set, c, pattern[i + 2]);
      i += 3;
    } else {
      set.set(static_cast<unsigned char>(c));
      ++i;
    }
  }
  if (negate)
    set.flip();
  return i;
}

size_t first_member(const std::bitset<256>& set) {
  size_t b = 0;
  while (!set.test(b))
    ++b;
  return b;
}

} // namespace

std::optional<glob> glob::compile(std::string_view pattern, std::string* error,
                                  size_t max_pattern_bytes) {
  auto fail = [&](std::string reason) -> std::optional<glob> {
    if (error)
      *error = std::move(reason);
    return std::nullopt;
  };
  if (pattern.size() > max_pattern_bytes)
    return fail("pattern is " + std::to_string(pattern.size()) +
                " bytes, longer than the limit of " + std::to_string(max_pattern_bytes));
  glob result;
  result.pattern_ = std::string{pattern};
  auto& tokens = result.tokens_;
  size_t stars = 0;
  size_t i = 0;
  auto n = pattern.size();
  while (i < n) {
    auto c = pattern[i];
    if (c == '*') {
      while (i < n && pattern[i] == '*')
        ++i;
      tokens.push_back({token_kind::star, 0, 0});
      ++stars;
    } else if (c == '?') {
      tokens.push_back({token_kind::any, 0, 0});
      ++i;
    } else if (c == '\\' && n - i >= 2) {
      tokens.push_back({token_kind::byte, static_cast<uint8_t>(pattern[i + 1]), 0});
      i += 2;
    } else if (c == '[') {
      std::bitset<256> set;
      i = parse_set(pattern, i + 1, set);
      // Normalise so that `[a]` counts as a literal and `[^]` as `?`.
      if (set.count() == 1)
        tokens.push_back({token_kind::byte, static_cast<uint8_t>(first_member(set)), 0});
      else if (set.all())
        tokens.push_back({token_kind::any, 0, 0});
      else {
        tokens.push_back({token_kind::set, 0, static_cast<uint32_t>(result.sets_.size())});
        result.sets_.push_back(set);
      }
    } else {
      tokens.push_back({token_kind::byte, static_cast<uint8_t>(c), 0});
      ++i;
    }
  }
  if (stars > max_star_groups)
    return fail("pattern has " + std::to_string(stars) +
                " '*' groups; Redis stops matching beyond " + std::to_string(max_star_groups));
  return result;
}

std::string glob::escape(std::string_view key) {
  std::string result;
  result.reserve(key.size());
  for (auto c : key) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\')
      result.push_back('\\');
    result.push_back(c);
  }
  return result;
}

bool glob::matches_token(const token& t, unsigned char c) const {
  switch (t.kind) {
  case token_kind::any:
    return true;
  case token_kind::byte:
    return t.byte == c;
  case token_kind::set:
    return sets_[t.set].test(c);
  case token_kind::star:
    break;
  }
  return false;
}

bool glob::matches(std::string_view key) const {
  // Redis' matcher needs a key byte to enter its loop, so only the empty pattern matches the
  // empty key; KEYS and SCAN short-cut the pattern `*` to "every key".
  if (key.empty())
    return tokens_.empty() || pattern_ == "*";
  constexpr size_t none = static_cast<size_t>(-1);
  size_t ti = 0;
  size_t ki = 0;
  size_t star_ti = none;
  size_t star_ki = 0;
  auto m = tokens_.size();
  while (ki < key.size()) {
    if (ti < m && tokens_[ti].kind == token_kind::star) {
      star_ti = ti++;
      star_ki = ki;
    } else if (ti < m && matches_token(tokens_[ti], static_cast<unsigned char>(key[ki]))) {
      ++ti;
      ++ki;
    } else if (star_ti != none) {
      // Let the last star swallow one more byte and retry what follows it.
      ti = star_ti + 1;
      ki = ++star_ki;
    } else {
      return false;
    }
  }
  while (ti < m && tokens_[ti].kind == token_kind::star)
    ++ti;
  return ti == m;
}

bool glob::matches_everything() const {
  return tokens_.size() == 1 && tokens_.front().kind == token_kind::star;
}

bool glob::is_literal() const {
  return std::all_of(tokens_.begin(), tokens_.end(),
                     [](const token& t) { return t.kind == token_kind::byte; });
}

std::string glob::literal_prefix() const {
  std::string result;
  for (auto& t : tokens_) {
    if (t.kind != token_kind::byte)
      break;
    result.push_back(static_cast<char>(t.byte));
  }
  return result;
}

} // namespace mtcache::detail
