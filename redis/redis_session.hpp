#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/io/typed_broker.hpp>
#include <caf/typed_actor.hpp>

#include "mtcache/codec/detail/resp.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/messages/stats.hpp"
#include "mtcache/redis/redis_link.hpp"

namespace mtcache::detail {

template <class T>
struct typed_broker_of;

template <class... Sigs>
struct typed_broker_of<caf::typed_actor<Sigs...>> {
  using type = caf::io::typed_broker<Sigs...>;
};

/// The typed broker for an actor that speaks `Interface` over a `basic_session`: the
/// interface plus socket I/O, the link's connection results and retries (scheduled, or at
/// once when another connection got through), and the deadline tick.
template <class Interface>
using session_broker = typename typed_broker_of<typename Interface::template extend<
    caf::reacts_to<caf::io::new_data_msg>, caf::reacts_to<caf::io::connection_closed_msg>,
    caf::reacts_to<connect_atom, connected_socket, uint64_t>,
    caf::reacts_to<connect_atom, caf::error, uint64_t>, caf::reacts_to<retry_atom, uint64_t>,
    caf::reacts_to<connect_atom>, caf::reacts_to<switch_atom, std::string>,
    caf::reacts_to<caf::tick_atom>>>::type;

template <class Interface>
using redis_session_broker = session_broker<Interface>;

/// Pipelined request/response traffic on one connection owned by a broker: commands are
/// written as they come, replies are matched to them by position (Redis and memcached
/// answer in order), and a command not answered within its deadline takes the connection
/// down (a hung server otherwise holds every later command hostage).
///
/// `Protocol` says how to connect, read replies and write commands (`resp_protocol`, or the
/// memcached tier's `meta_protocol`). `Entry` is the broker's record of one command: it
/// needs an unsigned `replies` (how many replies the command produces) and `int64_t
/// deadline_ms`. The broker handles `(caf::tick_atom)` by calling `on_tick`, and the
/// messages of `basic_link`.
template <class Protocol, class Entry>
class basic_session {
public:
  using protocol = Protocol;
  using link_type = basic_link<Protocol>;
  using reply = typename Protocol::reply;

  /// Commands in flight beyond which new ones fail at once rather than queue behind a
  /// server that does not keep up.
  static constexpr size_t max_pending = 1 << 17;

  basic_session() : link_({}, {}, 0) {}

  basic_session(typename Protocol::address url, link_options opts,
                std::chrono::milliseconds request_timeout, uint64_t seed, uint64_t epoch_base = 0)
      : link_(std::move(url), opts, seed, epoch_base), request_timeout_(request_timeout) {}

  /// The session of `self` to `url` with the timeouts and backoff of `cfg` (a
  /// redis_tier_config or memcached_tier_config), connecting; the backoff's jitter is seeded
  /// apart for every broker.
  /// `epoch_base`: see `basic_link`.
  template <class Self, class Config>
  static basic_session open(Self* self, typename Protocol::address url, const Config& cfg,
                            uint64_t epoch_base = 0) {
    auto seed = (static_cast<uint64_t>(now_ms()) ^ reinterpret_cast<uintptr_t>(self)) + epoch_base;
    basic_session session{std::move(url),
                          {cfg.connect_timeout, cfg.backoff_initial, cfg.backoff_max},
                          cfg.request_timeout,
                          seed,
                          epoch_base};
    session.link().connect(self);
    return session;
  }

  link_type& link() { return link_; }
  const link_type& link() const { return link_; }
  size_t pending() const { return queue_.size(); }
  uint64_t timeouts() const { return timeouts_; }
  std::chrono::milliseconds request_timeout() const { return request_timeout_; }

  /// Adds this connection's reconnects, timeouts and state to `stats`.
  void report(tier_stats& stats) const {
    stats.reconnects = link_.reconnects();
    stats.connected = link_.up();
    stats.timeouts = timeouts_;
    stats.topology.failovers = link_.failovers();
    stats.primary = link_.peer();
  }

  static int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
  }

  /// Why a command fails at once: the last connection error, or "not connected".
  caf::error unavailable() const {
    auto& last = link_.last_error();
    return last ? last
                : make_error(errc::backend_unavailable,
                             std::string{Protocol::name} + " is not connected");
  }

  /// Writes the command(s) of `entry` with `write(Protocol::writer&)` (or
  /// `write(Protocol::writer&, const Entry&)`) and queues it, or hands it
  /// to `fail` when the link is down or too much is pending. `extra` extends the deadline
  /// (for commands that block on the server, such as XREAD BLOCK).
  template <class Self, class Write, class Fail>
  void submit(Self* self, Entry entry, Write write, Fail fail,
              std::chrono::milliseconds extra = std::chrono::milliseconds{0}) {
    if (link_.state() == link_type::phase::down) {
      fail(entry, unavailable());
      return;
    }
    if (queue_.size() >= max_pending) {
      fail(entry, make_error(errc::backend_unavailable,
                             std::string{"too many requests pending on "} + Protocol::name));
      return;
    }
    typename Protocol::writer out{link_.out(self)};
    if constexpr (std::is_invocable_v<Write&, typename Protocol::writer&, const Entry&>)
      write(out, std::as_const(entry));
    else
      write(out);
    if (!corked_)
      link_.flush(self);
    entry.deadline_ms = now_ms() + (request_timeout_ + extra).count();
    queue_.emplace_back(std::move(entry));
    arm_tick(self);
  }

  /// For a broker owning several sessions, whose one tick serves them all: `armed` is its
  /// flag, which it clears before calling every session's `on_tick`. Without it, each tick
  /// would have every session schedule another, and ticks would multiply.
  void share_tick(bool* armed) { shared_tick_ = armed; }

  /// Between `cork` and `uncork`, submitted commands wait in the buffer and go out together
  /// (a broker splitting a batch over several connections writes each once).
  void cork() { corked_ = true; }

  template <class Self>
  void uncork(Self* self) {
    corked_ = false;
    link_.flush(self);
  }

  /// Feeds received bytes; hands every entry whose replies are all in to
  /// `complete(Entry&, std::vector<reply>&)`. Drops the connection on a protocol error or an
  /// unexpected reply.
  template <class Self, class Complete, class Fail>
  void on_data(Self* self, const std::vector<char>& buf, Complete complete, Fail fail) {
    for (size_t pos = 0, n = 0; pos < buf.size(); pos += n) {
      n = std::min(Protocol::feed_slice, buf.size() - pos);
      if (!link_.reader().feed(buf.data() + pos, n)) {
        drop(self, make_error(errc::backend_error, std::string{Protocol::name} + " protocol error"),
             fail);
        return;
      }
      if (!drain(self, complete, fail))
        return;
    }
    if (reconnect_reason_) {
      auto reason = std::move(reconnect_reason_);
      reconnect_reason_ = caf::error{};
      drop(self, std::move(reason), fail);
    }
  }

  /// Asks for a new connection once the replies received so far are handled (a reply said
  /// this server is the wrong one: a Redis Cluster moved the slot). Commands still pending
  /// then fail with `reason`.
  void reconnect_soon(caf::error reason) { reconnect_reason_ = std::move(reason); }

  /// The deadline check: the oldest command overdue means the server stopped answering.
  template <class Self, class Fail>
  void on_tick(Self* self, Fail fail) {
    if (shared_tick_ == nullptr)
      tick_armed_ = false;
    if (queue_.empty())
      return;
    if (queue_.front().deadline_ms > now_ms()) {
      arm_tick(self);
      return;
    }
    ++timeouts_;
    auto err = make_error(errc::timeout, std::string{Protocol::name} + " did not answer within " +
                                             std::to_string(request_timeout_.count()) + " ms");
    // Also while connecting: the overdue commands sit in the link's parking buffer and would
    // go out once it connects, their replies then matched to whatever was queued after them.
    if (link_.up() || link_.connecting())
      drop(self, std::move(err), fail);
    else
      fail_all(err, fail);
  }

  /// Gives up the connection: every queued command fails with `reason`, and the link
  /// schedules a reconnect.
  template <class Self, class Fail>
  void drop(Self* self, caf::error reason, Fail fail) {
    // The link goes down first: a command submitted while the failed ones are answered (a
    // broker asking another question on failure) then fails at once instead of waiting in
    // the queue for a reply the closed connection will never bring.
    auto queue = take_queue();
    link_.drop(self, reason);
    fail_each(queue, reason, fail);
  }

  /// The owner exits: every queued command fails with `reason` and the connection closes
  /// without a reconnect.
  template <class Self, class Fail>
  void shut_down(Self* self, const caf::error& reason, Fail fail) {
    auto queue = take_queue();
    link_.close(self);
    fail_each(queue, reason, fail);
  }

  /// The primary moved to `primary` (`(switch_atom, primary)`): unless connected there
  /// already, what was sent to the old one fails (it was not acknowledged, and may never be)
  /// and the link reconnects at once.
  template <class Self, class Fail>
  void switched(Self* self, const std::string& primary, Fail fail) {
    if (link_.on(primary))
      return;
    auto err = make_error(errc::backend_unavailable,
                          std::string{Protocol::name} + ": the primary moved (failover)");
    auto queue = take_queue();
    link_.reconnect_now(self, err);
    fail_each(queue, err, fail);
  }

  /// A connection attempt failed (the `(connect_atom, caf::error, epoch)` message).
  template <class Self, class Fail>
  void connect_failed(Self* self, caf::error reason, uint64_t epoch, Fail fail) {
    if (epoch != link_.epoch())
      return;
    drop(self, std::move(reason), fail);
  }

private:
  /// Hands out every complete entry; false when the connection was dropped.
  template <class Self, class Complete, class Fail>
  bool drain(Self* self, Complete& complete, Fail& fail) {
    for (;;) {
      bool failed = false;
      reply next;
      bool got = Protocol::next(link_.reader(), next, failed);
      if (failed || (got && queue_.empty())) {
        drop(self,
             make_error(errc::backend_error,
                        std::string{Protocol::name} + " protocol error or unexpected reply"),
             fail);
        return false;
      }
      if (!got)
        return true;
      partial_.emplace_back(std::move(next));
      if (partial_.size() < queue_.front().replies)
        continue;
      auto entry = std::move(queue_.front());
      queue_.pop_front();
      bool demoted = std::any_of(partial_.begin(), partial_.end(),
                                 [](const reply& r) { return Protocol::demoted(r); });
      complete(entry, partial_);
      partial_.clear();
      if (demoted) {
        // The node stopped being the primary: the command failed with its reply, and the
        // rest goes elsewhere after a reconnect (which, for a Sentinel set, asks again).
        drop(self,
             make_error(errc::backend_unavailable,
                        std::string{Protocol::name} + ": the server is no longer the primary"),
             fail);
        return false;
      }
    }
  }

  template <class Fail>
  void fail_all(const caf::error& err, Fail fail) {
    auto queue = take_queue();
    fail_each(queue, err, fail);
  }

  std::deque<Entry> take_queue() {
    auto queue = std::move(queue_);
    queue_.clear();
    partial_.clear();
    return queue;
  }

  template <class Fail>
  static void fail_each(std::deque<Entry>& queue, const caf::error& err, Fail& fail) {
    for (auto& entry : queue)
      fail(entry, err);
  }

  template <class Self>
  void arm_tick(Self* self) {
    auto& armed = shared_tick_ != nullptr ? *shared_tick_ : tick_armed_;
    if (armed)
      return;
    armed = true;
    auto interval = std::max(request_timeout_ / 4, std::chrono::milliseconds{5});
    self->delayed_send(self, interval, caf::tick_atom::value);
  }

  link_type link_;
  std::chrono::milliseconds request_timeout_{500};
  std::deque<Entry> queue_;
  std::vector<reply> partial_;
  bool tick_armed_ = false;
  bool corked_ = false;
  bool* shared_tick_ = nullptr;
  uint64_t timeouts_ = 0;
  caf::error reconnect_reason_;
};

template <class Entry>
using redis_session = basic_session<resp_protocol, Entry>;

/// The behaviour of a broker over a `basic_session`: its own `handlers` plus the ones every
/// such broker shares, written once here: received bytes go to the session, which hands
/// complete entries to `complete(Entry&, std::vector<reply>&)`; a closed
/// connection, the link's connection results and retries, and the deadline tick. Entries
/// that will not get their replies go to `fail(Entry&, const caf::error&)`. `after()` runs
/// after each shared handler that may finish or fail entries or change the connection (a
/// broker that sends one request at a time starts the next there). The broker's state holds the
/// session as `session`.
template <class Behavior, class Self, class Complete, class Fail, class After, class... Handlers>
Behavior session_behavior(Self* self, Complete complete, Fail fail, After after,
                          Handlers... handlers) {
  return {
      std::move(handlers)...,
      [=](const caf::io::new_data_msg& msg) {
        self->state.session.on_data(self, msg.buf, complete, fail);
        after();
      },
      [=](const caf::io::connection_closed_msg&) {
        using protocol = typename std::decay_t<decltype(self->state.session)>::protocol;
        self->state.session.drop(self,
                                 make_error(errc::backend_unavailable,
                                            std::string{protocol::name} + " closed the connection"),
                                 fail);
        after();
      },
      [=](connect_atom, connected_socket& sock, uint64_t epoch) {
        self->state.session.link().adopt(self, sock, epoch);
        after();
      },
      [=](connect_atom, caf::error& err, uint64_t epoch) {
        self->state.session.connect_failed(self, std::move(err), epoch, fail);
        after();
      },
      [=](retry_atom, uint64_t epoch) { self->state.session.link().retry(self, epoch); },
      [=](connect_atom) { self->state.session.link().retry_now(self); },
      [=](switch_atom, const std::string& primary) {
        self->state.session.switched(self, primary, fail);
        after();
      },
      [=](caf::tick_atom) {
        self->state.session.on_tick(self, fail);
        after();
      },
  };
}

} // namespace mtcache::detail
