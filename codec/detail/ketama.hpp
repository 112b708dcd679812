#pragma once

// Consistent hashing of keys onto memcached servers, as libmemcached places them with
// MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED (php-memcached's OPT_LIBKETAMA_COMPATIBLE, pylibmc's
// "ketama_weighted"; spymemcached's KETAMA_HASH with its libmemcached key format), so that
// those clients and mtcache agree on where a key lives.
//
// Each server gets 160 points on a 32-bit circle (equal weights): for k in 0..39 the MD5 of
// "host-k" (port 11211) or "host:port-k" (any other port) gives four little-endian words.
// A key's point is the first little-endian word of the MD5 of its stored bytes; it lives on
// the server owning the first point at or after it, wrapping to the first. Adding or
// removing a server moves only the keys of the arcs it takes or gives up (about 1/N).
// tests/ketama_test.cpp checks the placement against libmemcached itself.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mtcache/codec/memcached_url.hpp"

namespace mtcache::detail {

class ketama_ring {
public:
  /// Points per server and per MD5 digest (libmemcached's MEMCACHED_POINTS_PER_SERVER_KETAMA).
  static constexpr uint32_t points_per_server = 160;
  static constexpr uint32_t points_per_hash = 4;

  explicit ketama_ring(const std::vector<memcached_server>& servers);

  /// Index (into the servers given) of the server that holds `stored_key`.
  size_t server_of(std::string_view stored_key) const;

  /// The key's point on the circle.
  static uint32_t hash(std::string_view stored_key);

  /// How libmemcached names `server` on the circle: "host", or "host:port" off port 11211.
  static std::string point_name(const memcached_server& server);

private:
  struct point {
    uint32_t value;
    uint32_t server;
  };

  std::vector<point> points_;
};

} // namespace mtcache::detail
