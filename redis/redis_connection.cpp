#include "mtcache/redis/redis_connection.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

struct connected_socket::owner {
  int fd;
  ~owner() {
    if (fd >= 0)
      ::close(fd);
  }
};

connected_socket::connected_socket(int fd) : fd_(new owner{fd}) {}

int connected_socket::release() {
  if (!fd_)
    return -1;
  return std::exchange(fd_->fd, -1);
}

namespace {

timeval to_timeval(std::chrono::milliseconds x) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(x.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((x.count() % 1000) * 1000);
  return tv;
}

// Runs one command during the handshake; an error reply or I/O failure becomes an error.
caf::error handshake_step(redisContext* c, errc code, const char* what, int argc, const char** argv,
                          const size_t* lens) {
  auto* raw = static_cast<redisReply*>(redisCommandArgv(c, argc, argv, lens));
  if (raw == nullptr)
    return make_error(errc::backend_unavailable, std::string{what} + ": " + c->errstr);
  redis_reply_ptr reply{raw};
  if (reply->type == REDIS_REPLY_ERROR)
    return make_error(code, std::string{what} + ": " + std::string{reply->str, reply->len});
  return caf::none;
}

} // namespace

void redis_context_deleter::operator()(redisContext* c) const {
  redisFree(c);
}

caf::expected<redis_context_ptr> connect_redis(const redis_url& url,
                                               std::chrono::milliseconds timeout) {
  auto tv = to_timeval(timeout);
  redis_context_ptr c{url.kind == redis_url::transport::unix_socket
                          ? redisConnectUnixWithTimeout(url.path.c_str(), tv)
                          : redisConnectWithTimeout(url.host.c_str(), url.port, tv)};
  if (!c)
    return make_error(errc::backend_unavailable, "cannot allocate a redis context");
  if (c->err)
    return make_error(errc::backend_unavailable, "connect to " + to_string(url) + ": " + c->errstr);
  redisSetTimeout(c.get(), tv);
  if (!url.password.empty()) {
    const char* argv[] = {"AUTH", url.user.data(), url.password.data()};
    size_t lens[] = {4, url.user.size(), url.password.size()};
    caf::error err;
    if (url.user.empty()) {
      argv[1] = url.password.data();
      lens[1] = url.password.size();
      err = handshake_step(c.get(), errc::unauthenticated, "AUTH", 2, argv, lens);
    } else {
      err = handshake_step(c.get(), errc::unauthenticated, "AUTH", 3, argv, lens);
    }
    if (err)
      return err;
  }
  if (url.db != 0) {
    auto db = std::to_string(url.db);
    const char* argv[] = {"SELECT", db.c_str()};
    size_t lens[] = {6, db.size()};
    if (auto err = handshake_step(c.get(), errc::invalid_config, "SELECT", 2, argv, lens))
      return err;
  }
  return c;
}

caf::expected<redis_socket> open_redis_socket(const redis_url& url,
                                              std::chrono::milliseconds timeout) {
  if (url.mode == redis_url::topology::cluster)
    return open_cluster_socket(url, timeout);
  auto c = connect_redis(url, timeout);
  if (!c)
    return std::move(c.error());
  const char* ping[] = {"PING"};
  size_t ping_len[] = {4};
  if (auto err = handshake_step(c->get(), errc::backend_unavailable, "PING", 1, ping, ping_len))
    return err;
  int fd = redisFreeKeepFd(c->release());
  // hiredis left the socket blocking with receive/send timeouts; the multiplexer needs it
  // non-blocking and without them.
  timeval zero{0, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &zero, sizeof(zero));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &zero, sizeof(zero));
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return redis_socket{fd};
}

void redis_reply_deleter::operator()(redisReply* x) const {
  freeReplyObject(x);
}

void redis_reply_reader::reader_deleter::operator()(redisReader* x) const {
  redisReaderFree(x);
}

redis_reply_reader::redis_reply_reader() : reader_(redisReaderCreate()) {
  // Keep hiredis from shrinking its buffer after every reply (it would reallocate often).
  reader_->maxbuf = 0;
}

bool redis_reply_reader::feed(const char* data, size_t size) {
  return redisReaderFeed(reader_.get(), data, size) == REDIS_OK;
}

redis_reply_ptr redis_reply_reader::next(bool& failed) {
  void* reply = nullptr;
  if (redisReaderGetReply(reader_.get(), &reply) != REDIS_OK) {
    failed = true;
    return nullptr;
  }
  return redis_reply_ptr{static_cast<redisReply*>(reply)};
}

void redis_reply_reader::reset() {
  reader_.reset(redisReaderCreate());
  reader_->maxbuf = 0;
}

} // namespace mtcache::detail
