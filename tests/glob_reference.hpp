#pragma once

// An independent model of Redis 7.0 KEYS matching, for differential tests of `glob`.
//
// It interprets the raw pattern while walking the key, like Redis' util.c, instead of
// compiling tokens, so a mistake in glob's compiler does not repeat here. The recursion at
// `*` is memoised on (pattern position, key position) to keep fuzzing fast; that does not
// change the answer.

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace mtcache::reference {

class redis_matcher {
public:
  redis_matcher(std::string_view pattern, std::string_view key)
      : p_(pattern), k_(key), memo_((p_.size() + 1) * (k_.size() + 1), unknown) {
    // nop
  }

  /// KEYS and SCAN treat the pattern `*` as "every key", then call stringmatchlen.
  bool keys_matches() { return p_ == "*" || match(0, 0); }

private:
  static constexpr signed char unknown = -1;

  bool match(size_t pi, size_t ki) {
    auto& slot = memo_[pi * (k_.size() + 1) + ki];
    if (slot == unknown)
      slot = run(pi, ki) ? 1 : 0;
    return slot == 1;
  }

  bool run(size_t pi, size_t ki) {
    auto pn = p_.size();
    auto kn = k_.size();
    while (pi < pn && ki < kn) {
      auto c = k_[ki];
      switch (p_[pi]) {
      case '*':
        while (pi + 1 < pn && p_[pi + 1] == '*')
          ++pi;
        if (pi + 1 == pn)
          return true;
        for (auto j = ki; j < kn; ++j)
          if (match(pi + 1, j))
            return true;
        return false;
      case '?':
        break;
      case '[':
        if (!bracket(pi, c))
          return false;
        break;
      case '\\':
        if (pn - pi >= 2)
          ++pi;
        if (p_[pi] != c)
          return false;
        break;
      default:
        if (p_[pi] != c)
          return false;
      }
      ++pi;
      ++ki;
      if (ki == kn) {
        while (pi < pn && p_[pi] == '*')
          ++pi;
        break;
      }
    }
    return pi == pn && ki == kn;
  }

  // On entry `pi` is at `[`; on exit at the last byte of the expression.
  bool bracket(size_t& pi, char c) {
    auto pn = p_.size();
    ++pi;
    bool negate = pi < pn && p_[pi] == '^';
    if (negate)
      ++pi;
    bool hit = false;
    for (;;) {
      if (pi < pn && p_[pi] == '\\' && pn - pi >= 2) {
        ++pi;
        hit = hit || p_[pi] == c;
      } else if (pi < pn && p_[pi] == ']') {
        break;
      } else if (pi >= pn) {
        --pi;
        break;
      } else if (pn - pi >= 3 && p_[pi + 1] == '-') {
        int lo = static_cast<signed char>(p_[pi]);
        int hi = static_cast<signed char>(p_[pi + 2]);
        if (lo > hi)
          std::swap(lo, hi);
        int x = static_cast<signed char>(c);
        hit = hit || (x >= lo && x <= hi);
        pi += 2;
      } else {
        hit = hit || p_[pi] == c;
      }
      ++pi;
    }
    return negate ? !hit : hit;
  }

  std::string_view p_;
  std::string_view k_;
  std::vector<signed char> memo_;
};

/// Whether Redis KEYS `pattern` lists `key`.
inline bool redis_keys_matches(std::string_view pattern, std::string_view key) {
  return redis_matcher{pattern, key}.keys_matches();
}

} // namespace mtcache::reference
