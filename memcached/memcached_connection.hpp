#pragma once

// The memcached tier's plumbing: the meta protocol on the connection life and pipelined
// session the Redis code runs on (redis/redis_link.hpp, redis/redis_session.hpp), which are
// generic over a protocol for this reason.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/expected.hpp>

#include "mtcache/codec/detail/meta_protocol.hpp"
#include "mtcache/codec/memcached_url.hpp"
#include "mtcache/redis/redis_session.hpp"

namespace mtcache::detail {

/// Connects to `server` (each resolved address in turn) and checks with `mn` that it speaks
/// the meta protocol (memcached 1.6 or later), each step within `timeout`. Blocks the
/// calling thread: run it in a detached actor. The returned socket is non-blocking, with
/// TCP_NODELAY.
caf::expected<connected_socket> open_memcached_socket(const memcached_server& server,
                                                      std::chrono::milliseconds timeout);

/// The meta protocol as `basic_link` and `basic_session` speak it.
struct meta_protocol {
  using address = memcached_server;
  using reader = meta_reply_reader;
  using reply = meta_reply;
  using writer = meta_writer;

  static constexpr const char* name = "memcached";
  static constexpr size_t feed_slice = SIZE_MAX;

  static caf::expected<connected_socket> open(const memcached_server& server,
                                              std::chrono::milliseconds timeout) {
    return open_memcached_socket(server, timeout);
  }

  static std::string server(const memcached_server& server) { return to_string(server); }

  /// memcached has no primaries: no reply demotes a server, and no switches to follow.
  static bool demoted(const meta_reply&) { return false; }
  static void watch(caf::actor_system&, const memcached_server&, bool) {
    // nop
  }

  static bool next(meta_reply_reader& in, meta_reply& out, bool& failed) {
    return in.next(out, failed);
  }
};

template <class Entry>
using memcached_session = basic_session<meta_protocol, Entry>;

} // namespace mtcache::detail
