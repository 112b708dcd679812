#pragma once

#include <charconv>
#include <cstddef>
#include <string_view>
#include <vector>

namespace mtcache::detail {

/// Appends Redis commands in RESP (arrays of bulk strings) to a write buffer. Formatting in
/// place avoids one allocation per command that `redisFormatCommand` would cost.
class resp_writer {
public:
  explicit resp_writer(std::vector<char>& out) : out_(out) {}

  /// Starts a command of `argc` arguments (the command name included).
  resp_writer& begin(size_t argc) {
    put_header('*', argc);
    return *this;
  }

  resp_writer& arg(std::string_view x) {
    put_header('$', x.size());
    out_.insert(out_.end(), x.begin(), x.end());
    out_.insert(out_.end(), {'\r', '\n'});
    return *this;
  }

  /// A bulk argument made of two parts, such as a key prefix and a key.
  resp_writer& arg(std::string_view x, std::string_view y) {
    put_header('$', x.size() + y.size());
    out_.insert(out_.end(), x.begin(), x.end());
    out_.insert(out_.end(), y.begin(), y.end());
    out_.insert(out_.end(), {'\r', '\n'});
    return *this;
  }

  resp_writer& arg(long long x) {
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof(buf), x);
    return arg(std::string_view{buf, static_cast<size_t>(res.ptr - buf)});
  }

private:
  void put_header(char type, size_t n) {
    char buf[24];
    buf[0] = type;
    auto res = std::to_chars(buf + 1, buf + sizeof(buf) - 2, n);
    *res.ptr++ = '\r';
    *res.ptr++ = '\n';
    out_.insert(out_.end(), buf, res.ptr);
  }

  std::vector<char>& out_;
};

} // namespace mtcache::detail
