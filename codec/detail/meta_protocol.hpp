#pragma once

// memcached's meta protocol (1.6+), the commands the memcached tier sends and the replies
// it reads. Every command gets exactly one reply and replies come in order, so a pipeline
// matches them by position as it does for Redis (no `q` flags, no `mn` fences):
//
//   mg <key> [b] v t        VA <n> t<secs>\r\n<data>\r\n  |  EN      (t-1: no expiry)
//   mg <key> [b]            HD                            |  EN
//   ms <key> <n> [b] [T<e>]\r\n<data>\r\n                 HD  |  SERVER_ERROR …
//   md <key> [b]            HD                            |  NF
//   mn                      MN
//   flush_all               OK
//
// A malformed command can make memcached read its data block as a command of its own, so
// replies and commands fall out of step: keys are always made valid first
// (memcached_key.hpp), and ERROR or CLIENT_ERROR is a protocol failure that takes the
// connection down.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mtcache/codec/detail/memcached_key.hpp"
#include "mtcache/messages/bytes.hpp"

namespace mtcache::detail {

/// memcached reads an expiration time above 30 days (REALTIME_MAXDELTA) as a Unix time.
constexpr int64_t memcached_max_relative_exptime = 60 * 60 * 24 * 30;

/// The exptime memcached needs for `ttl` at Unix time `now_s`: 0 (never) for no TTL, else
/// whole seconds rounded up (a positive TTL never becomes 0, which would mean never); above
/// 30 days the absolute time, capped at the largest memcached reads (2^31 - 1, in 2038).
int64_t memcached_exptime(std::chrono::nanoseconds ttl, int64_t now_s);

/// Appends meta commands to a write buffer.
class meta_writer {
public:
  explicit meta_writer(std::vector<char>& out) : out_(out) {}

  /// mg with the value and the remaining TTL.
  meta_writer& get(const memcached_key& key);
  /// mg without flags: HD if the key exists, EN if not.
  meta_writer& exists(const memcached_key& key);
  /// ms in set mode; `exptime` 0 stores without expiry.
  meta_writer& set(const memcached_key& key, std::string_view value, int64_t exptime);
  meta_writer& remove(const memcached_key& key);
  meta_writer& noop();
  meta_writer& flush_all();

private:
  void append(std::string_view x) { out_.insert(out_.end(), x.begin(), x.end()); }
  void command(std::string_view name, const memcached_key& key);

  std::vector<char>& out_;
};

/// One reply.
struct meta_reply {
  enum class kind : uint8_t {
    value,        // VA
    miss,         // EN
    done,         // HD
    not_stored,   // NS
    exists,       // EX
    not_found,    // NF
    noop,         // MN
    ok,           // OK
    server_error, // SERVER_ERROR <message>
  };
  kind what = kind::miss;
  bytes value;
  /// The `t` flag: remaining seconds, -1 for no expiry (or no `t` flag).
  int64_t ttl = -1;
  /// SERVER_ERROR's text.
  std::string message;
};

/// Incremental reader of meta replies: feed bytes as they arrive, take replies.
class meta_reply_reader {
public:
  /// Appends received bytes (never refuses them).
  bool feed(const char* data, size_t size);

  /// Takes the next complete reply into `out`; false if none is complete yet. Sets `failed`
  /// on a line that is no reply of ours (ERROR, CLIENT_ERROR, garbage); the connection must
  /// then be dropped.
  bool next(meta_reply& out, bool& failed);

  void reset();

  /// The line that set `failed`, for the log.
  const std::string& bad_line() const { return bad_line_; }

private:
  std::string buf_;
  size_t pos_ = 0;
  std::string bad_line_;
};

} // namespace mtcache::detail
