#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace mtcache {

/// Where a Redis server listens and how to log in, parsed from a URL:
///
/// - `redis://[user[:password]@]host[:port][/db]`, user and password percent-decoded, IPv6
///   hosts in brackets (`redis://[::1]:6380/2`), port 6379 and db 0 by default;
///   `redis://:password@host` logs in as the default user.
/// - `unix:///path/to/redis.sock[?db=N][&password=…][&user=…]` (also `redis+unix://`);
///   `pass` is accepted for `password` as the Rust redis crate spells it, and query values
///   are form-decoded (`+` is a space), as there.
///
/// Rejected with a reason: `rediss://` (Debian's hiredis 0.14 has no TLS), other schemes,
/// an empty host, ports outside 1..65535, a db outside 0..INT_MAX, control characters,
/// spaces or raw non-ASCII bytes, bad percent-encodings, query strings or fragments on
/// `redis://`, unknown or repeated query parameters, and trailing garbage. Reasons never
/// quote the password.
struct redis_url {
  enum class transport : uint8_t { tcp, unix_socket };

  static constexpr uint16_t default_port = 6379;

  /// URLs longer than this are rejected before parsing.
  static constexpr size_t max_url_bytes = 4096;

  /// sun_path holds 108 bytes including the terminating NUL.
  static constexpr size_t max_socket_path_bytes = 107;

  transport kind = transport::tcp;
  /// TCP: host name or IP address; an IPv6 address without its brackets.
  std::string host = "127.0.0.1";
  uint16_t port = default_port;
  /// Unix socket: absolute path of the socket.
  std::string path;
  /// ACL user; empty means the default user.
  std::string user;
  /// Empty means no AUTH.
  std::string password;
  /// Database selected after connecting.
  int db = 0;

  /// Parses `text`; on failure returns nothing and sets `*error` (if given) to the reason.
  static std::optional<redis_url> parse(std::string_view text, std::string* error = nullptr);

  friend bool operator==(const redis_url& x, const redis_url& y) {
    return x.kind == y.kind && x.host == y.host && x.port == y.port && x.path == y.path &&
           x.user == y.user && x.password == y.password && x.db == y.db;
  }
};

/// The URL with the password replaced by `***`, with port and db spelled out, for logs:
/// `redis://alice:***@[::1]:6379/0`, `unix:///run/redis.sock?db=2&password=***`.
std::string to_string(const redis_url& x);

/// The Redis URL to use: `explicit_url` if set, else the REDIS_URL environment variable,
/// else redis://127.0.0.1:6379. Fails with errc::invalid_url and the reason.
caf::expected<redis_url> resolve_redis_url(const std::string& explicit_url);

} // namespace mtcache
