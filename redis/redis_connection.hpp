#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>

#include "mtcache/codec/redis_url.hpp"

struct redisReader;
struct redisReply;

namespace mtcache::detail {

/// An open, authenticated Redis socket on its way from a connector to the actor that will
/// own it. Closes the socket when the last copy goes away unless `release` took it, so a
/// socket sent to an actor that already exited does not leak.
class redis_socket {
public:
  redis_socket() = default;
  explicit redis_socket(int fd);

  /// Takes ownership of the socket; later calls return -1.
  int release();

private:
  struct owner;
  std::shared_ptr<owner> fd_;
};

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

} // namespace mtcache::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mtcache::detail::redis_socket)
