#include "mtcache/codec/detail/meta_protocol.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cstring>
#include <utility>

namespace mtcache::detail {

int64_t memcached_exptime(std::chrono::nanoseconds ttl, int64_t now_s) {
  if (ttl.count() <= 0)
    return 0;
  auto secs = std::chrono::ceil<std::chrono::seconds>(ttl).count();
  if (secs <= memcached_max_relative_exptime)
    return secs;
  if (secs >= INT32_MAX - now_s)
    return INT32_MAX;
  return now_s + secs;
}

void meta_writer::command(std::string_view name, const memcached_key& key) {
  append(name);
  out_.push_back(' ');
  append(key.text);
  if (key.binary)
    append(" b");
}

meta_writer& meta_writer::get(const memcached_key& key) {
  command("mg", key);
  append(" v t\r\n");
  return *this;
}

meta_writer& meta_writer::exists(const memcached_key& key) {
  command("mg", key);
  append("\r\n");
  return *this;
}

meta_writer& meta_writer::set(const memcached_key& key, std::string_view value, int64_t exptime) {
  char num[24];
  append("ms ");
  append(key.text);
  out_.push_back(' ');
  auto res = std::to_chars(num, num + sizeof(num), value.size());
  append({num, static_cast<size_t>(res.ptr - num)});
  if (key.binary)
    append(" b");
  if (exptime != 0) {
    append(" T");
    res = std::to_chars(num, num + sizeof(num), exptime);
    append({num, static_cast<size_t>(res.ptr - num)});
  }
  append("\r\n");
  append(value);
  append("\r\n");
  return *this;
}

meta_writer& meta_writer::remove(const memcached_key& key) {
  command("md", key);
  append("\r\n");
  return *this;
}

meta_writer& meta_writer::noop() {
  append("mn\r\n");
  return *this;
}

meta_writer& meta_writer::flush_all() {
  append("flush_all\r\n");
  return *this;
}

bool meta_reply_reader::feed(const char* data, size_t size) {
  // Drop what was consumed before growing: replies are small, the buffer stays so too.
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data, size);
  return true;
}

namespace {

bool starts_with(std::string_view x, std::string_view prefix) {
  return x.substr(0, prefix.size()) == prefix;
}

// The value of flag `f` among the space-separated tokens of `flags`, if present.
bool parse_flag(std::string_view flags, char f, int64_t& out) {
  size_t pos = 0;
  while (pos < flags.size()) {
    auto end = flags.find(' ', pos);
    auto token = flags.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (token.size() > 1 && token[0] == f) {
      auto res = std::from_chars(token.data() + 1, token.data() + token.size(), out);
      return res.ec == std::errc{} && res.ptr == token.data() + token.size();
    }
    if (end == std::string_view::npos)
      break;
    pos = end + 1;
  }
  return false;
}

} // namespace

bool meta_reply_reader::next(meta_reply& out, bool& failed) {
  auto* begin = buf_.data() + pos_;
  auto avail = buf_.size() - pos_;
  auto* nl = static_cast<const char*>(std::memchr(begin, '\n', avail));
  if (nl == nullptr)
    return false;
  auto line_len = static_cast<size_t>(nl - begin) + 1;
  if (line_len < 2 || nl[-1] != '\r') {
    bad_line_.assign(begin, line_len);
    failed = true;
    return false;
  }
  std::string_view line{begin, line_len - 2};
  auto code = line.substr(0, 2);
  auto flags = line.size() > 3 ? line.substr(3) : std::string_view{};
  out.ttl = -1;
  out.value = bytes{};
  out.message.clear();
  if (code == "VA" && (line.size() == 2 || line[2] == ' ')) {
    auto end = flags.find(' ');
    auto size_text = flags.substr(0, end);
    size_t size = 0;
    auto res = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    if (res.ec != std::errc{} || res.ptr != size_text.data() + size_text.size()) {
      bad_line_ = std::string{line};
      failed = true;
      return false;
    }
    if (avail - line_len < size + 2)
      return false;
    auto* data = begin + line_len;
    if (data[size] != '\r' || data[size + 1] != '\n') {
      bad_line_ = std::string{line};
      failed = true;
      return false;
    }
    out.what = meta_reply::kind::value;
    out.value = bytes{std::string_view{data, size}};
    if (end != std::string_view::npos)
      parse_flag(flags.substr(end + 1), 't', out.ttl);
    pos_ += line_len + size + 2;
    return true;
  }
  pos_ += line_len;
  if (line.size() == 2 || (line.size() > 2 && line[2] == ' ')) {
    static constexpr std::pair<std::string_view, meta_reply::kind> codes[] = {
        {"EN", meta_reply::kind::miss},       {"HD", meta_reply::kind::done},
        {"NS", meta_reply::kind::not_stored}, {"EX", meta_reply::kind::exists},
        {"NF", meta_reply::kind::not_found},  {"MN", meta_reply::kind::noop},
        {"OK", meta_reply::kind::ok}};
    for (auto& [text, what] : codes)
      if (code == text) {
        out.what = what;
        parse_flag(flags, 't', out.ttl);
        return true;
      }
  }
  if (starts_with(line, "SERVER_ERROR")) {
    out.what = meta_reply::kind::server_error;
    out.message = std::string{line.substr(std::min<size_t>(line.size(), 13))};
    return true;
  }
  bad_line_ = std::string{line};
  failed = true;
  return false;
}

void meta_reply_reader::reset() {
  buf_.clear();
  pos_ = 0;
  bad_line_.clear();
}

} // namespace mtcache::detail
