#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
/// - `redis+cluster://[user[:password]@]host[:port][,host[:port]…][/0]`: a Redis Cluster
///   given by seed nodes (any of its nodes; the rest is discovered). A cluster has only
///   database 0, so any other db is rejected.
/// - `redis+sentinel://[user[:password]@]host[:port][,host[:port]…]/master[/db]`: the primary
///   that the listed sentinels (port 26379 by default) know as `master`, followed across
///   failovers. The user and password are those of the Redis servers; sentinels that need a
///   password of their own take `?sentinel_password=…` (and `sentinel_user=…`).
///
/// Rejected with a reason: `rediss://` (Debian's hiredis 0.14 has no TLS), other schemes,
/// an empty host, ports outside 1..65535, a db outside 0..INT_MAX, control characters,
/// spaces or raw non-ASCII bytes, bad percent-encodings, query strings or fragments on
/// `redis://`, unknown or repeated query parameters, and trailing garbage. Reasons never
/// quote the password.
struct redis_url {
  enum class transport : uint8_t { tcp, unix_socket };

  /// One server, or the entry points of a deployment that says where its servers are.
  enum class topology : uint8_t { standalone, cluster, sentinel };

  struct endpoint {
    std::string host;
    uint16_t port = 0;

    friend bool operator==(const endpoint& x, const endpoint& y) {
      return x.host == y.host && x.port == y.port;
    }
  };

  static constexpr uint16_t default_port = 6379;
  static constexpr uint16_t default_sentinel_port = 26379;

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
  topology mode = topology::standalone;
  /// Cluster: the seed nodes; sentinel: the sentinels. `host` and `port` hold the first.
  std::vector<endpoint> nodes;
  /// Sentinel: the name the sentinels monitor the primary under.
  std::string master_name;
  /// Sentinel: credentials of the sentinels themselves (empty: none).
  std::string sentinel_user;
  std::string sentinel_password;
  /// Cluster, set by mtcache rather than parsed: connect to the primary serving this key's
  /// slot (the audit stream's) instead of any node.
  std::string route_key;

  /// Parses `text`; on failure returns nothing and sets `*error` (if given) to the reason.
  static std::optional<redis_url> parse(std::string_view text, std::string* error = nullptr);

  friend bool operator==(const redis_url& x, const redis_url& y) {
    return x.kind == y.kind && x.host == y.host && x.port == y.port && x.path == y.path &&
           x.user == y.user && x.password == y.password && x.db == y.db && x.mode == y.mode &&
           x.nodes == y.nodes && x.master_name == y.master_name &&
           x.sentinel_user == y.sentinel_user && x.sentinel_password == y.sentinel_password && x.route_key == y.route_key;
  }
};

/// The URL with the password replaced by `***`, with port and db spelled out, for logs:
/// `redis://alice:***@[::1]:6379/0`, `unix:///run/redis.sock?db=2&password=***`,
/// `redis+cluster://10.0.0.1:7000,10.0.0.2:7000`, `redis+sentinel://s1:26379,s2:26379/mymaster/0`.
std::string to_string(const redis_url& x);

/// The Redis URL to use: `explicit_url` if set, else the REDIS_URL environment variable,
/// else redis://127.0.0.1:6379. Fails with errc::invalid_url and the reason.
caf::expected<redis_url> resolve_redis_url(const std::string& explicit_url);

} // namespace mtcache
