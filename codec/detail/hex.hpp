#pragma once

#include <string>
#include <string_view>

namespace mtcache::detail {

/// The value of one hex digit in either case, or -1.
constexpr int hex_digit_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Appends `data` as lowercase hex, two digits per byte.
inline void append_hex(std::string& out, std::string_view data) {
  static constexpr char digits[] = "0123456789abcdef";
  for (auto c : data) {
    out.push_back(digits[static_cast<unsigned char>(c) >> 4]);
    out.push_back(digits[static_cast<unsigned char>(c) & 15]);
  }
}

} // namespace mtcache::detail
