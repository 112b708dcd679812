#include "mtcache/codec/detail/json_writer.hpp"

namespace mtcache::detail {

void write_json_string(std::string& out, std::string_view x) {
  static constexpr char digits[] = "0123456789abcdef";
  out.push_back('"');
  for (auto c : x) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\b':
      out += "\\b";
      break;
    case '\f':
      out += "\\f";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\r':
      out += "\\r";
      break;
    case '\t':
      out += "\\t";
      break;
    default:
      if (static_cast<unsigned char>(c) < 0x20) {
        out += "\\u00";
        out.push_back(digits[static_cast<unsigned char>(c) >> 4]);
        out.push_back(digits[static_cast<unsigned char>(c) & 15]);
      } else {
        out.push_back(c);
      }
    }
  }
  out.push_back('"');
}

void write_json_uint(std::string& out, uint64_t x) {
  out += std::to_string(x);
}

} // namespace mtcache::detail
