#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/expected.hpp>

namespace mtcache {

/// One memcached server.
struct memcached_server {
  static constexpr uint16_t default_port = 11211;

  /// Host name or IP address; an IPv6 address without its brackets.
  std::string host = "127.0.0.1";
  uint16_t port = default_port;

  friend bool operator==(const memcached_server& x, const memcached_server& y) {
    return x.host == y.host && x.port == y.port;
  }
};

/// host:port, IPv6 in brackets: `127.0.0.1:11211`, `[::1]:11211`.
std::string to_string(const memcached_server& x);

/// The memcached servers of a tier, parsed from a URL or a comma-separated list of them:
///
/// - `memcache://host[:port]`, port 11211 by default, IPv6 hosts in brackets;
/// - several servers as `memcache://a:11211,b:11212` or `memcache://a:11211,memcache://b`
///   (whitespace around the commas is ignored); the order does not matter for placement
///   (ketama hashes server names), but a server listed twice is rejected.
///
/// Rejected with a reason: other schemes (`memcache+tls://`, `memcache+udp://`, unix
/// sockets), credentials (SASL is not supported), paths, query strings and fragments (the
/// Rust `memcache` crate's `?timeout=…` and friends are `memcached_tier_config` fields
/// here), an empty host, ports outside 1..65535, control characters or spaces.
struct memcached_url {
  static constexpr size_t max_url_bytes = 4096;

  std::vector<memcached_server> servers;

  /// Parses `text`; on failure returns nothing and sets `*error` (if given) to the reason.
  static std::optional<memcached_url> parse(std::string_view text, std::string* error = nullptr);
};

/// `memcache://a:11211,b:11212`.
std::string to_string(const memcached_url& x);

/// The memcached servers to use: `explicit_url` if set, else the MEMCACHED_URL environment
/// variable, else memcache://127.0.0.1:11211 (as multi-tier-cache resolves them). Fails with
/// errc::invalid_url and the reason.
caf::expected<memcached_url> resolve_memcached_url(const std::string& explicit_url);

} // namespace mtcache
