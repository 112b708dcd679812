// A strict JSON pull reader.
//
// Messages on the invalidation channel are small objects with a handful of fields, but they
// arrive from any process that can publish to Redis, so the reader must never trust sizes or
// nesting. It keeps no tree: a 1 MiB message of integers costs one pass and no per-element
// allocation. Nesting is tracked in `fresh_` (one bool per open container) and capped, so
// skipping unknown fields cannot recurse without bound.

#include "mtcache/codec/detail/json_reader.hpp"

#include "mtcache/codec/detail/hex.hpp"

namespace mtcache::detail {

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

} // namespace

json_reader::json_reader(std::string_view input, size_t max_string_bytes, size_t max_depth)
    : in_(input), max_string_bytes_(max_string_bytes), max_depth_(max_depth) {
  // nop
}

bool json_reader::fail(std::string_view reason) {
  if (error_.empty())
    error_ = "at byte " + std::to_string(pos_) + ": " + std::string{reason};
  return false;
}

void json_reader::skip_whitespace() {
  while (pos_ < in_.size() &&
         (in_[pos_] == ' ' || in_[pos_] == '\t' || in_[pos_] == '\n' || in_[pos_] == '\r'))
    ++pos_;
}

std::optional<json_type> json_reader::peek() {
  if (failed())
    return std::nullopt;
  skip_whitespace();
  if (pos_ == in_.size()) {
    fail("unexpected end of input, expected a value");
    return std::nullopt;
  }
  switch (in_[pos_]) {
  case '{':
    return json_type::object;
  case '[':
    return json_type::array;
  case '"':
    return json_type::string;
  case 't':
  case 'f':
    return json_type::boolean;
  case 'n':
    return json_type::null;
  default:
    if (in_[pos_] == '-' || is_digit(in_[pos_]))
      return json_type::number;
  }
  fail("unexpected character, expected a value");
  return std::nullopt;
}

bool json_reader::open(char bracket) {
  if (failed())
    return false;
  skip_whitespace();
  if (pos_ == in_.size() || in_[pos_] != bracket)
    return fail(bracket == '{' ? "expected an object" : "expected an array");
  if (fresh_.size() >= max_depth_)
    return fail("nesting deeper than " + std::to_string(max_depth_));
  ++pos_;
  fresh_.push_back(true);
  return true;
}

bool json_reader::next(char close, bool& more) {
  more = false;
  if (failed())
    return false;
  if (fresh_.empty())
    return fail("no open container");
  skip_whitespace();
  if (pos_ < in_.size() && in_[pos_] == close) {
    ++pos_;
    fresh_.pop_back();
    return true;
  }
  if (!fresh_.back()) {
    if (pos_ == in_.size() || in_[pos_] != ',')
      return fail(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    ++pos_;
    skip_whitespace();
  }
  fresh_.back() = false;
  more = true;
  return true;
}

bool json_reader::begin_object() {
  return open('{');
}

bool json_reader::next_member(std::string& name) {
  bool more = false;
  if (!next('}', more) || !more)
    return false;
  if (pos_ == in_.size() || in_[pos_] != '"')
    return fail("expected a member name");
  // Names are bounded only by the input: long unknown names are skipped, not refused.
  name.clear();
  if (!scan_string(&name, SIZE_MAX))
    return false;
  skip_whitespace();
  if (pos_ == in_.size() || in_[pos_] != ':')
    return fail("expected ':' after a member name");
  ++pos_;
  return true;
}

bool json_reader::begin_array() {
  return open('[');
}

bool json_reader::next_element() {
  bool more = false;
  return next(']', more) && more;
}

bool json_reader::read_hex4(uint32_t& out) {
  if (in_.size() - pos_ < 4)
    return fail("truncated \\u escape");
  out = 0;
  for (int i = 0; i < 4; ++i) {
    auto v = hex_digit_value(in_[pos_ + i]);
    if (v < 0)
      return fail("invalid hex digit in \\u escape");
    out = out * 16 + static_cast<uint32_t>(v);
  }
  pos_ += 4;
  return true;
}

// Called with `pos_` after the backslash.
bool json_reader::read_escape(std::string* out) {
  if (pos_ == in_.size())
    return fail("unterminated string");
  char c = in_[pos_++];
  char plain = 0;
  switch (c) {
  case '"':
  case '\\':
  case '/':
    plain = c;
    break;
  case 'b':
    plain = '\b';
    break;
  case 'f':
    plain = '\f';
    break;
  case 'n':
    plain = '\n';
    break;
  case 'r':
    plain = '\r';
    break;
  case 't':
    plain = '\t';
    break;
  case 'u': {
    uint32_t cp = 0;
    if (!read_hex4(cp))
      return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
      return fail("lone low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low = 0;
      if (in_.size() - pos_ < 2 || in_[pos_] != '\\' || in_[pos_ + 1] != 'u')
        return fail("high surrogate not followed by a low surrogate");
      pos_ += 2;
      if (!read_hex4(low))
        return false;
      if (low < 0xDC00 || low > 0xDFFF)
        return fail("high surrogate not followed by a low surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (out)
      append_utf8(*out, cp);
    return true;
  }
  default:
    --pos_;
    return fail("invalid escape in string");
  }
  if (out)
    out->push_back(plain);
  return true;
}

// Called with `pos_` at the opening quote; `out` may be null to skip.
bool json_reader::scan_string(std::string* out, size_t max_bytes) {
  ++pos_;
  while (pos_ < in_.size()) {
    auto c = in_[pos_];
    if (c == '"') {
      ++pos_;
      return true;
    }
    if (static_cast<unsigned char>(c) < 0x20)
      return fail("unescaped control character in string");
    if (c == '\\') {
      ++pos_;
      if (!read_escape(out))
        return false;
    } else {
      // Copy the run of plain bytes in one go.
      auto start = pos_;
      while (pos_ < in_.size() && in_[pos_] != '"' && in_[pos_] != '\\' &&
             static_cast<unsigned char>(in_[pos_]) >= 0x20)
        ++pos_;
      if (out)
        out->append(in_.data() + start, pos_ - start);
    }
    if (out && out->size() > max_bytes)
      return fail("string longer than " + std::to_string(max_bytes) + " bytes");
  }
  return fail("unterminated string");
}

bool json_reader::read_string(std::string& out, size_t max_bytes) {
  out.clear();
  if (peek() != json_type::string)
    return fail("expected a string");
  return scan_string(&out, max_bytes == 0 ? max_string_bytes_ : max_bytes);
}

// Called with `pos_` at '-' or a digit; checks the RFC 8259 number grammar.
bool json_reader::scan_number(bool& integer) {
  integer = true;
  if (in_[pos_] == '-')
    ++pos_;
  if (pos_ == in_.size() || !is_digit(in_[pos_]))
    return fail("expected a digit");
  if (in_[pos_] == '0' && pos_ + 1 < in_.size() && is_digit(in_[pos_ + 1]))
    return fail("leading zero in number");
  while (pos_ < in_.size() && is_digit(in_[pos_]))
    ++pos_;
  if (pos_ < in_.size() && in_[pos_] == '.') {
    integer = false;
    ++pos_;
    if (pos_ == in_.size() || !is_digit(in_[pos_]))
      return fail("expected a digit after '.'");
    while (pos_ < in_.size() && is_digit(in_[pos_]))
      ++pos_;
  }
  if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
    integer = false;
    ++pos_;
    if (pos_ < in_.size() && (in_[pos_] == '+' || in_[pos_] == '-'))
      ++pos_;
    if (pos_ == in_.size() || !is_digit(in_[pos_]))
      return fail("expected a digit in exponent");
    while (pos_ < in_.size() && is_digit(in_[pos_]))
      ++pos_;
  }
  return true;
}

bool json_reader::read_uint(uint64_t& out, uint64_t max) {
  if (peek() != json_type::number)
    return fail("expected a number");
  auto start = pos_;
  bool integer = false;
  if (!scan_number(integer))
    return false;
  auto token = in_.substr(start, pos_ - start);
  if (!integer || token.front() == '-') {
    pos_ = start;
    return fail("expected a non-negative integer");
  }
  out = 0;
  for (auto c : token) {
    auto digit = static_cast<uint64_t>(c - '0');
    if (digit > max || out > (max - digit) / 10) {
      pos_ = start;
      return fail("integer out of range 0.." + std::to_string(max));
    }
    out = out * 10 + digit;
  }
  return true;
}

bool json_reader::consume_literal(std::string_view word) {
  if (in_.substr(pos_, word.size()) != word)
    return fail("invalid literal");
  pos_ += word.size();
  return true;
}

bool json_reader::read_null() {
  if (peek() != json_type::null)
    return false;
  return consume_literal("null");
}

bool json_reader::read_bool(bool& out) {
  if (peek() != json_type::boolean)
    return fail("expected true or false");
  out = in_[pos_] == 't';
  return consume_literal(out ? "true" : "false");
}

bool json_reader::skip_value() {
  auto type = peek();
  if (!type)
    return false;
  std::string name;
  switch (*type) {
  case json_type::object:
    if (!begin_object())
      return false;
    while (next_member(name))
      if (!skip_value())
        return false;
    return !failed();
  case json_type::array:
    if (!begin_array())
      return false;
    while (next_element())
      if (!skip_value())
        return false;
    return !failed();
  case json_type::string:
    return scan_string(nullptr, SIZE_MAX);
  case json_type::number: {
    bool integer = false;
    return scan_number(integer);
  }
  case json_type::boolean:
    return consume_literal(in_[pos_] == 't' ? "true" : "false");
  case json_type::null:
    return consume_literal("null");
  }
  return false;
}

bool json_reader::end() {
  if (failed())
    return false;
  if (!fresh_.empty())
    return fail("unclosed container");
  skip_whitespace();
  if (pos_ != in_.size())
    return fail("trailing characters after the JSON value");
  return true;
}

} // namespace mtcache::detail
