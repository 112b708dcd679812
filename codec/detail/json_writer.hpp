#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mtcache::detail {

/// Appends `x` as a JSON string literal: `"` and `\` are escaped, control bytes become
/// `\b`, `\f`, `\n`, `\r`, `\t` or `\u00XX`; every other byte, including bytes >= 0x80, is
/// written as it is (a key that is not UTF-8 stays byte-exact for `json_reader`).
void write_json_string(std::string& out, std::string_view x);

/// Appends `x` in decimal.
void write_json_uint(std::string& out, uint64_t x);

} // namespace mtcache::detail
