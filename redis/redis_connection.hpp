#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>

#include "mtcache/codec/detail/resp.hpp"
#include "mtcache/codec/redis_url.hpp"

struct redisContext;
struct redisReader;
struct redisReply;

namespace mtcache::detail {

/// An open socket (for Redis: authenticated) on its way from a connector to the actor that
/// will own it. Closes the socket when the last copy goes away unless `release` took it, so
/// a socket sent to an actor that already exited does not leak. The memcached tier's
/// connections travel the same way.
class connected_socket {
public:
  connected_socket() = default;
  explicit connected_socket(int fd);

  /// Takes ownership of the socket; later calls return -1.
  int release();

private:
  struct owner;
  std::shared_ptr<owner> fd_;
};

using redis_socket = connected_socket;

struct redis_context_deleter {
  void operator()(redisContext* c) const;
};

/// A blocking hiredis connection, for the handshake and for questions asked while
/// connecting (which primary, which slots).
using redis_context_ptr = std::unique_ptr<redisContext, redis_context_deleter>;

/// Connects to the server `url` names (its host and port, whatever its mode), authenticates
/// and selects the database, within `timeout` per step.
caf::expected<redis_context_ptr> connect_redis(const redis_url& url,
                                               std::chrono::milliseconds timeout);

/// A cluster URL: connects to one of its seed nodes (each call starts at the next seed, so a
/// dead node is passed over), or, when `url.route_key` is set, to the primary that serves
/// that key's slot.
caf::expected<connected_socket> open_cluster_socket(const redis_url& url,
                                                    std::chrono::milliseconds timeout);

/// Connects to `url`, authenticates (AUTH [user] password), selects the database and
/// checks the connection with PING, all within `timeout` per step. Blocks the calling
/// thread: run it in a detached actor. The returned socket is non-blocking.
caf::expected<redis_socket> open_redis_socket(const redis_url& url,
                                              std::chrono::milliseconds timeout);

struct redis_reply_deleter {
  void operator()(redisReply* x) const;
};

using redis_reply_ptr = std::unique_ptr<redisReply, redis_reply_deleter>;

/// Incremental RESP parser (hiredis' reader): feed bytes as they arrive, take replies.
class redis_reply_reader {
public:
  redis_reply_reader();

  /// Appends received bytes; returns false if the reader refused them.
  bool feed(const char* data, size_t size);

  /// The next complete reply, nullptr if none is complete yet. Sets `failed` on a protocol
  /// error, after which the connection must be dropped.
  redis_reply_ptr next(bool& failed);

  /// Drops buffered bytes, for a new connection.
  void reset();

private:
  struct reader_deleter {
    void operator()(redisReader* x) const;
  };
  std::unique_ptr<redisReader, reader_deleter> reader_;
};

/// RESP as `basic_link` and `basic_session` speak it (see redis_link.hpp and
/// redis_session.hpp): how to connect, how to read replies, how to write commands.
struct resp_protocol {
  using address = redis_url;
  using reader = redis_reply_reader;
  using reply = redis_reply_ptr;
  using writer = resp_writer;

  static constexpr const char* name = "redis";
  /// hiredis moves its unread bytes to the front once it has consumed 1 KiB, after every
  /// reply, so a large read fed whole costs a copy of its rest per reply: feed slices.
  static constexpr size_t feed_slice = 1024;

  static caf::expected<connected_socket> open(const redis_url& url,
                                              std::chrono::milliseconds timeout) {
    return open_redis_socket(url, timeout);
  }

  /// host:port or the socket path: what connections to one server share.
  static std::string server(const redis_url& url) {
    return url.kind == redis_url::transport::unix_socket
               ? url.path
               : url.host + ":" + std::to_string(url.port);
  }

  static bool next(redis_reply_reader& in, redis_reply_ptr& out, bool& failed) {
    out = in.next(failed);
    return out != nullptr;
  }
};

} // namespace mtcache::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mtcache::detail::connected_socket)
