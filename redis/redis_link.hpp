#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <caf/actor_cast.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/receive_policy.hpp>
#include <caf/send.hpp>

#include "mtcache/codec/redis_url.hpp"
#include "mtcache/messages/atoms.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/redis/reachability.hpp"
#include "mtcache/redis/redis_connection.hpp"

namespace mtcache::detail {

/// The most one read of the connection takes. CAF 0.17's scribe shrinks its read buffer to
/// what a read brought and grows it back to this size before the next, zero-filling the
/// difference: every read costs a memset of about this size, though replies come in far
/// smaller pieces (memcached answers 20 pipelined commands per event, about 1.7 KiB of
/// 64-byte gets). 16 KiB keeps such a piece, and several, in one read; a larger reply
/// (a big value, a long MGET) takes more reads of the same buffer.
constexpr size_t link_read_bytes = 16 * 1024;

struct link_options {
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{2000};
};

using redis_link_options = link_options;

/// The life of one connection owned by a broker on the middleman's multiplexer: connect in
/// a short-lived detached actor (`Protocol::open` connects and, for Redis, authenticates
/// blocking), adopt the socket, drop it on failure and retry with exponential backoff plus
/// jitter. `Protocol` names the server's address type, the reply reader kept per connection
/// and the blocking `open` (see `resp_protocol`). The owning broker must handle
/// `(connect_atom, connected_socket, uint64_t)`,
/// `(connect_atom, caf::error, uint64_t)`, `(retry_atom, uint64_t)` and `(connect_atom)` by
/// calling `adopt`, `drop`, `retry` and `retry_now`. Every attempt has its own epoch, so
/// late results are ignored. A link that gets through after a loss tells the other links to
/// the same server to try at once (see reachability.hpp). The owner also handles
/// `(switch_atom, primary)` (the server is a Sentinel set whose primary moved) by failing
/// what is in flight and calling `reconnect_now`, unless `on(primary)` says it is there. A socket
/// that names its peer (the primary a Sentinel set reported) tells the link where it is connected;
/// a new peer counts as a failover.
template <class Protocol>
class basic_link {
public:
  using address = typename Protocol::address;
  using reader_type = typename Protocol::reader;

  enum class phase : uint8_t { down, connecting, up };

  /// `epoch_base` sets the high bits of every epoch, so that a broker owning several links
  /// can tell whose connection result or retry a message is (see `basic_session::link_of`).
  basic_link(address url, link_options opts, uint64_t seed, uint64_t epoch_base = 0)
      : url_(std::move(url)), server_(Protocol::server(url_)), opts_(opts), rng_(seed),
        epoch_(epoch_base) {}

  phase state() const { return phase_; }
  bool up() const { return phase_ == phase::up; }
  bool connecting() const { return phase_ == phase::connecting; }
  uint64_t epoch() const { return epoch_; }
  uint64_t reconnects() const { return reconnects_; }
  /// Reconnects that landed on another primary than the connection before.
  uint64_t failovers() const { return failovers_; }
  /// The primary connected to last ("host:port"), for Sentinel sets; empty otherwise.
  const std::string& peer() const { return peer_; }
  const caf::error& last_error() const { return last_error_; }
  const address& url() const { return url_; }
  reader_type& reader() { return reader_; }
  caf::io::connection_handle handle() const { return hdl_; }

  /// Where to append commands: the socket's buffer when up, a parking buffer while the
  /// connection is being made (sent once it is up).
  template <class Self>
  std::vector<char>& out(Self* self) {
    return phase_ == phase::up ? self->wr_buf(hdl_) : parked_;
  }

  template <class Self>
  void flush(Self* self) {
    if (phase_ == phase::up)
      self->flush(hdl_);
  }

  /// Starts a connection attempt.
  template <class Self>
  void connect(Self* self) {
    if (!joined_) {
      joined_ = true;
      reachability::join(server_, self->address());
      Protocol::watch(self->system(), url_, true);
    }
    phase_ = phase::connecting;
    auto epoch = ++epoch_;
    auto target = caf::actor_cast<caf::actor>(self);
    self->system().template spawn<caf::detached>(
        [](caf::event_based_actor*, address url, std::chrono::milliseconds timeout,
           caf::actor target, uint64_t epoch) {
          auto sock = Protocol::open(url, timeout);
          if (sock)
            caf::anon_send(target, connect_atom::value, std::move(*sock), epoch);
          else
            caf::anon_send(target, connect_atom::value, std::move(sock.error()), epoch);
        },
        url_, opts_.connect_timeout, std::move(target), epoch);
  }

  /// Takes the socket of attempt `epoch`; returns false (and closes it) if the attempt is stale.
  template <class Self>
  bool adopt(Self* self, connected_socket& sock, uint64_t epoch) {
    auto fd = sock.release();
    if (epoch != epoch_ || phase_ != phase::connecting) {
      if (fd >= 0)
        ::close(fd);
      return false;
    }
    if (!sock.peer().empty()) {
      if (!peer_.empty() && peer_ != sock.peer())
        ++failovers_;
      peer_ = sock.peer();
    }
    hdl_ = self->add_scribe(fd);
    self->configure_read(hdl_, caf::io::receive_policy::at_most(link_read_bytes));
    reader_.reset();
    phase_ = phase::up;
    if (ever_connected_) {
      ++reconnects_;
      reachability::arrived(server_, self->address());
    }
    ever_connected_ = true;
    attempts_ = 0;
    last_error_ = caf::none;
    if (!parked_.empty()) {
      auto& buf = self->wr_buf(hdl_);
      buf.insert(buf.end(), parked_.begin(), parked_.end());
      parked_.clear();
      self->flush(hdl_);
    }
    return true;
  }

  /// Gives up the current connection or attempt and schedules the next attempt.
  template <class Self>
  void drop(Self* self, caf::error reason) {
    give_up(self, std::move(reason));
    auto epoch = ++epoch_;
    self->delayed_send(self, next_backoff(), retry_atom::value, epoch);
  }

  /// Closes the connection for good (the owner is exiting): no retry is scheduled, so no
  /// timer keeps the owner alive.
  template <class Self>
  void close(Self* self) {
    if (joined_) {
      joined_ = false;
      reachability::leave(server_, self->address());
      Protocol::watch(self->system(), url_, false);
    }
    if (phase_ == phase::up)
      self->close(hdl_);
    phase_ = phase::down;
    parked_.clear();
    ++epoch_;
  }

  /// A scheduled retry fired.
  template <class Self>
  void retry(Self* self, uint64_t epoch) {
    if (epoch == epoch_ && phase_ == phase::down)
      connect(self);
  }

  /// Another connection to the server got through: stop waiting out the backoff.
  template <class Self>
  void retry_now(Self* self) {
    if (phase_ == phase::down) {
      attempts_ = 0;
      connect(self);
    }
  }

  /// Connected to `primary` ("host:port") already.
  bool on(const std::string& primary) const { return phase_ == phase::up && peer_ == primary; }

  /// The server moved (a Sentinel failover): give up the connection or the attempt under
  /// way (it may be waiting out `connect_timeout` on the stopped old primary) and connect
  /// at once. The owner fails what was in flight first.
  template <class Self>
  void reconnect_now(Self* self, caf::error reason) {
    give_up(self, std::move(reason));
    attempts_ = 0;
    connect(self);
  }

  /// Feeds received bytes and hands every complete reply to `on_reply(reply&)` for as long
  /// as the link stays up (`on_reply` may drop it). Returns false on a protocol error,
  /// after which the owner drops the connection. For owners without a `basic_session`.
  template <class OnReply>
  bool receive(const std::vector<char>& buf, OnReply on_reply) {
    if (!reader_.feed(buf.data(), buf.size()))
      return false;
    while (phase_ == phase::up) {
      bool failed = false;
      typename Protocol::reply next;
      if (!Protocol::next(reader_, next, failed))
        return !failed;
      on_reply(next);
    }
    return true;
  }

private:
  template <class Self>
  void give_up(Self* self, caf::error reason) {
    if (phase_ == phase::up)
      self->close(hdl_);
    phase_ = phase::down;
    parked_.clear();
    last_error_ = std::move(reason);
  }

  std::chrono::milliseconds next_backoff() {
    auto shift = std::min<uint32_t>(attempts_++, 16);
    int64_t base = std::min<int64_t>(opts_.backoff_max.count(),
                                     int64_t{opts_.backoff_initial.count()} << shift);
    base = std::max<int64_t>(base, 1);
    // Anywhere in [base/2, base]: nodes that lost Redis together do not retry in lockstep.
    std::uniform_int_distribution<int64_t> jitter{base / 2, base};
    return std::chrono::milliseconds{jitter(rng_)};
  }

  address url_;
  // host:port or the socket path: what links to one server share.
  std::string server_;
  bool joined_ = false;
  link_options opts_;
  std::minstd_rand rng_;
  phase phase_ = phase::down;
  uint64_t epoch_ = 0;
  uint32_t attempts_ = 0;
  uint64_t reconnects_ = 0;
  uint64_t failovers_ = 0;
  std::string peer_;
  bool ever_connected_ = false;
  caf::error last_error_;
  caf::io::connection_handle hdl_;
  std::vector<char> parked_;
  reader_type reader_;
};

using redis_link = basic_link<resp_protocol>;

} // namespace mtcache::detail
