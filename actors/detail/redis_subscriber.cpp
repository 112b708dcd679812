#include "mtcache/actors/detail/redis_subscriber.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/typed_broker.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <deque>
#include <optional>

#include <hiredis/hiredis.h>

#include "mtcache/actors/detail/log.hpp"
#include "mtcache/codec/detail/resp.hpp"
#include "mtcache/redis/redis_link.hpp"

namespace mtcache::detail {

namespace {

using subscriber_broker =
    caf::io::typed_broker<caf::replies_to<caf::ping_atom>::with<ok_atom>,
                          caf::reacts_to<caf::io::new_data_msg>,
                          caf::reacts_to<caf::io::connection_closed_msg>,
                          caf::reacts_to<connect_atom, redis_socket, uint64_t>,
                          caf::reacts_to<connect_atom, caf::error, uint64_t>,
                          caf::reacts_to<retry_atom, uint64_t>, caf::reacts_to<connect_atom>,
                          caf::reacts_to<switch_atom, std::string>, caf::reacts_to<caf::tick_atom>>;

struct subscriber_state {
  subscriber_state() : link({}, {}, 0) {}

  redis_subscriber_config cfg;
  bridge_impl bridge;
  redis_link link;
  bool subscribed = false;
  bool subscribed_before = false;
  // When the oldest unanswered PING was sent; 0 if none is out.
  int64_t ping_sent_ms = 0;
  // One entry per PING out, oldest first: the barrier it answers, or none for a keepalive.
  std::deque<std::optional<caf::typed_response_promise<ok_atom>>> pings;
  // The setup commands sent on connecting whose answers are still due, in order.
  enum class setup : uint8_t { client_id, channel, tracking };
  std::deque<setup> setup_due;
  uint64_t client_id = 0;

  static inline const char* name = "mtcache.redis_subscriber";
};

using self_ptr = caf::stateful_actor<subscriber_state, subscriber_broker>*;

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void send_command(self_ptr self, std::initializer_list<std::string_view> args) {
  resp_writer out{self->state.link.out(self)};
  out.begin(args.size());
  for (auto a : args)
    out.arg(a);
  self->state.link.flush(self);
}

void send_ping(self_ptr self, std::optional<caf::typed_response_promise<ok_atom>> barrier) {
  auto& st = self->state;
  if (st.pings.empty())
    st.ping_sent_ms = now_ms();
  st.pings.emplace_back(std::move(barrier));
  send_command(self, {"PING"});
}

void lost(self_ptr self, caf::error reason) {
  auto& st = self->state;
  st.setup_due.clear();
  for (auto& ping : st.pings)
    if (ping)
      ping->deliver(reason);
  st.pings.clear();
  if (st.subscribed) {
    log(log_level::warning, "redis_subscriber", "lost the subscription: " + caf::to_string(reason));
    self->send(st.bridge, caf::subscribe_atom::value, false, false);
  }
  st.subscribed = false;
  st.ping_sent_ms = 0;
  st.link.drop(self, std::move(reason));
}

std::string_view text(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS
             ? std::string_view{r->str, r->len}
             : std::string_view{};
}

// Sends what makes the connection a subscriber: with tracking, CLIENT ID first (a
// subscribed connection can no longer ask), then one SUBSCRIBE per channel.
void subscribe(self_ptr self) {
  auto& st = self->state;
  st.setup_due.clear();
  if (st.cfg.tracking) {
    st.setup_due.push_back(subscriber_state::setup::client_id);
    send_command(self, {"CLIENT", "ID"});
  }
  st.setup_due.push_back(subscriber_state::setup::channel);
  send_command(self, {"SUBSCRIBE", st.cfg.channel});
  if (st.cfg.tracking) {
    st.setup_due.push_back(subscriber_state::setup::tracking);
    send_command(self, {"SUBSCRIBE", tracking_channel});
  }
}

// The answer to a setup command: an integer (CLIENT ID), a subscribe confirmation, or an
// error (a user without permission for a channel).
void on_setup(self_ptr self, const redisReply* r) {
  auto& st = self->state;
  auto step = st.setup_due.front();
  st.setup_due.pop_front();
  if (r->type == REDIS_REPLY_ERROR) {
    auto message = std::string{r->str, r->len};
    if (step == subscriber_state::setup::tracking) {
      log(log_level::error, "redis_subscriber",
          std::string{"cannot subscribe to "} + tracking_channel + ": " + message +
              " (tracking needs the ACL permission &" + tracking_channel + ")");
      self->send(st.bridge, track_atom::value, make_error(errc::backend_error, message));
    } else {
      lost(self, make_error(errc::backend_error, message));
    }
    return;
  }
  switch (step) {
  case subscriber_state::setup::client_id:
    st.client_id = r->type == REDIS_REPLY_INTEGER ? static_cast<uint64_t>(r->integer) : 0;
    break;
  case subscriber_state::setup::channel:
    st.subscribed = true;
    self->send(st.bridge, caf::subscribe_atom::value, true, st.subscribed_before);
    st.subscribed_before = true;
    break;
  case subscriber_state::setup::tracking:
    self->send(st.bridge, track_atom::value, st.client_id);
    break;
  }
}

// An invalidation: the keys, or nil when the whole database was flushed.
void on_tracking(self_ptr self, const redisReply* keys) {
  std::vector<std::string> out;
  if (keys->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i < keys->elements; ++i)
      out.emplace_back(text(keys->element[i]));
  self->send(self->state.bridge, track_atom::value, std::move(out), keys->type == REDIS_REPLY_NIL);
}

void on_push(self_ptr self, const redisReply* r) {
  auto& st = self->state;
  bool confirmation =
      r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && text(r->element[0]) == "subscribe";
  if (!st.setup_due.empty() && (r->type != REDIS_REPLY_ARRAY || confirmation)) {
    on_setup(self, r);
    return;
  }
  if (r->type != REDIS_REPLY_ARRAY || r->elements < 2)
    return;
  auto kind = text(r->element[0]);
  if (kind == "message" && r->elements == 3) {
    if (text(r->element[1]) == tracking_channel)
      on_tracking(self, r->element[2]);
    else
      self->send(st.bridge, apply_atom::value, std::string{text(r->element[2])});
  } else if (kind == "pong" && !st.pings.empty()) {
    if (auto& barrier = st.pings.front())
      barrier->deliver(ok_atom::value);
    st.pings.pop_front();
    st.ping_sent_ms = st.pings.empty() ? 0 : now_ms();
  }
}

subscriber_broker::behavior_type redis_subscriber(self_ptr self, redis_subscriber_config cfg,
                                                  bridge_impl bridge) {
  auto& st = self->state;
  st.bridge = std::move(bridge);
  st.link = redis_link{cfg.url,
                       {cfg.connect_timeout, cfg.backoff_initial, cfg.backoff_max},
                       static_cast<uint64_t>(now_ms()) ^ reinterpret_cast<uintptr_t>(self)};
  st.cfg = std::move(cfg);
  st.link.connect(self);
  self->delayed_send(self, st.cfg.keepalive, caf::tick_atom::value);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& ping : self->state.pings)
      if (ping)
        ping->deliver(make_error(errc::shutting_down, "the subscriber is shutting down"));
    self->state.link.close(self);
    self->quit(msg.reason);
  });
  return {
      [=](caf::ping_atom) -> caf::result<ok_atom> {
        if (!self->state.subscribed)
          return make_error(errc::backend_unavailable, "not subscribed");
        auto rp = self->make_response_promise<ok_atom>();
        send_ping(self, rp);
        return rp;
      },
      [=](const caf::io::new_data_msg& msg) {
        auto on_reply = [&](redis_reply_ptr& reply) { on_push(self, reply.get()); };
        if (!self->state.link.receive(msg.buf, on_reply))
          lost(self, make_error(errc::backend_error, "redis protocol error"));
      },
      [=](const caf::io::connection_closed_msg&) {
        lost(self, make_error(errc::backend_unavailable, "redis closed the connection"));
      },
      [=](connect_atom, redis_socket& sock, uint64_t epoch) {
        if (self->state.link.adopt(self, sock, epoch))
          subscribe(self);
      },
      [=](connect_atom, caf::error& err, uint64_t epoch) {
        if (epoch == self->state.link.epoch())
          self->state.link.drop(self, std::move(err));
      },
      [=](retry_atom, uint64_t epoch) { self->state.link.retry(self, epoch); },
      [=](connect_atom) { self->state.link.retry_now(self); },
      [=](switch_atom, const std::string& primary) {
        // A Sentinel failover: the subscription was on the old primary. Losing it runs the
        // bridge's recovery once the new one is subscribed.
        if (self->state.link.on(primary))
          return;
        auto err = make_error(errc::backend_unavailable, "redis: the primary moved (failover)");
        lost(self, err);
        self->state.link.reconnect_now(self, std::move(err));
      },
      [=](caf::tick_atom) {
        auto& st = self->state;
        if (st.link.up() && st.subscribed) {
          if (st.ping_sent_ms == 0) {
            send_ping(self, std::nullopt);
          } else if (now_ms() - st.ping_sent_ms > st.cfg.request_timeout.count()) {
            lost(self, make_error(errc::timeout, "redis did not answer the keepalive PING"));
          }
        }
        auto next = std::min(st.cfg.keepalive,
                             std::max(st.cfg.request_timeout / 2, std::chrono::milliseconds{10}));
        self->delayed_send(self, next, caf::tick_atom::value);
      },
  };
}

} // namespace

subscriber_actor spawn_redis_subscriber(caf::actor_system& sys, redis_subscriber_config cfg,
                                        bridge_impl bridge) {
  return caf::actor_cast<subscriber_actor>(
      sys.middleman().spawn_broker(redis_subscriber, std::move(cfg), std::move(bridge)));
}

} // namespace mtcache::detail
