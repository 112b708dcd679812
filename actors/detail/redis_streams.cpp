#include "mtcache/actors/detail/redis_streams.hpp"

#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/typed_broker.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <hiredis/hiredis.h>

#include "mtcache/actors/detail/stream_reader.hpp"
#include "mtcache/codec/redis_url.hpp"
#include "mtcache/redis/cluster_topology.hpp"
#include "mtcache/redis/redis_session.hpp"
#include "mtcache/redis/stream_protocol.hpp"

namespace mtcache::detail {

namespace {

struct pending {
  enum class op : uint8_t { publish, xadd, latest, range, info, read, ping };
  op what = op::ping;
  uint8_t replies = 1;
  int64_t deadline_ms = 0;
  caf::response_promise rp;
};

struct redis_streams_state {
  redis_tier_config cfg;
  redis_session<pending> session;
  stream_reader_actor reader;
  tier_stats stats;

  static inline const char* name = "mtcache.redis_streams";
};

using broker_type = redis_session_broker<streams_actor>;
using self_ptr = caf::stateful_actor<redis_streams_state, broker_type>*;

void fail(self_ptr self, pending& p, const caf::error& err) {
  ++self->state.stats.errors;
  if (p.what == pending::op::ping)
    p.rp.deliver(tier_health{0, "streams", false, self->system().render(err), 0});
  else
    p.rp.deliver(err);
}

auto failer(self_ptr self) {
  return [self](pending& p, const caf::error& err) { fail(self, p, err); };
}

template <class Write>
void submit(self_ptr self, pending::op what, caf::response_promise rp, Write write) {
  self->state.session.submit(self, pending{what, 1, 0, std::move(rp)}, write, failer(self));
}

caf::error invalid_stream() {
  return make_error(errc::invalid_key, "the stream name is empty");
}

void deliver_entries(self_ptr self, pending& p, caf::expected<std::vector<stream_entry>> entries) {
  if (!entries) {
    fail(self, p, entries.error());
    return;
  }
  self->state.stats.hits += entries->size();
  p.rp.deliver(std::move(*entries));
}

void complete(self_ptr self, pending& p, std::vector<redis_reply_ptr>& replies) {
  auto& st = self->state;
  auto* r = replies[0].get();
  if (r->type == REDIS_REPLY_ERROR && p.what != pending::op::info) {
    std::string text{r->str, r->len};
    if (parse_cluster_error(text).what != cluster_redirect::kind::none)
      st.session.reconnect_soon(
          make_error(errc::backend_unavailable, "the audit stream moved: " + text));
    fail(self, p, make_error(errc::backend_error, std::move(text)));
    return;
  }
  switch (p.what) {
  case pending::op::publish:
    if (r->type != REDIS_REPLY_INTEGER || r->integer < 0) {
      fail(self, p, make_error(errc::backend_error, "unexpected PUBLISH reply"));
      return;
    }
    ++st.stats.writes;
    p.rp.deliver(static_cast<uint64_t>(r->integer));
    return;
  case pending::op::xadd:
    if (r->type != REDIS_REPLY_STRING) {
      fail(self, p, make_error(errc::backend_error, "unexpected XADD reply"));
      return;
    }
    ++st.stats.writes;
    p.rp.deliver(std::string{r->str, r->len});
    return;
  case pending::op::latest:
  case pending::op::range:
    deliver_entries(self, p, parse_stream_range(r));
    return;
  case pending::op::info: {
    auto info = parse_stream_info(r);
    if (info)
      p.rp.deliver(std::move(*info));
    else
      fail(self, p, info.error());
    return;
  }
  case pending::op::read:
    deliver_entries(self, p, parse_stream_read(r));
    return;
  case pending::op::ping: {
    auto sent = p.deadline_ms - st.cfg.request_timeout.count();
    bool pong = r->type == REDIS_REPLY_STATUS && std::string_view{r->str, r->len} == "PONG";
    p.rp.deliver(tier_health{0, "streams", pong, pong ? "PONG" : "unexpected PING reply",
                             (st.session.now_ms() - sent) * 1000});
    return;
  }
  }
}

broker_type::behavior_type redis_streams(self_ptr self, redis_tier_config cfg, redis_url url) {
  auto& st = self->state;
  st.cfg = cfg;
  st.stats.kind = "streams";
  st.reader = spawn_stream_reader(self->system(), cfg, url);
  // The reader is ours: it goes when we go, however we go.
  self->attach_functor(
      [reader = st.reader] { caf::anon_send_exit(reader, caf::exit_reason::user_shutdown); });
  st.session = redis_session<pending>::open(self, std::move(url), cfg);
  // Callers wait on their promises: answer them rather than leave them to their timeouts.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->state.session.shut_down(
        self, make_error(errc::shutting_down, "the streams actor is shutting down"), failer(self));
    self->quit(msg.reason);
  });
  auto on_reply = [=](pending& p, std::vector<redis_reply_ptr>& replies) {
    complete(self, p, replies);
  };
  return session_behavior<broker_type::behavior_type>(
      self, on_reply, failer(self), [] {},
      [=](caf::publish_atom, const std::string& channel,
          const std::string& payload) -> caf::result<uint64_t> {
        auto rp = self->make_response_promise<uint64_t>();
        auto& prefix = self->state.cfg.key_prefix;
        submit(self, pending::op::publish, rp, [&](resp_writer& out) {
          out.begin(3).arg("PUBLISH").arg(prefix, channel).arg(payload);
        });
        return rp;
      },
      [=](xadd_atom, const std::string& stream, const std::vector<stream_field>& fields,
          uint64_t maxlen) -> caf::result<std::string> {
        if (stream.empty())
          return invalid_stream();
        auto rp = self->make_response_promise<std::string>();
        auto& prefix = self->state.cfg.key_prefix;
        submit(self, pending::op::xadd, rp,
               [&](resp_writer& out) { write_xadd(out, prefix, stream, fields, maxlen); });
        return rp;
      },
      [=](xlatest_atom, const std::string& stream,
          uint64_t count) -> caf::result<std::vector<stream_entry>> {
        if (stream.empty())
          return invalid_stream();
        auto rp = self->make_response_promise<std::vector<stream_entry>>();
        auto& prefix = self->state.cfg.key_prefix;
        submit(self, pending::op::latest, rp,
               [&](resp_writer& out) { write_xrevrange(out, prefix, stream, count); });
        return rp;
      },
      [=](xrange_atom, const std::string& stream, const std::string& after_id,
          uint64_t count) -> caf::result<std::vector<stream_entry>> {
        if (stream.empty())
          return invalid_stream();
        auto rp = self->make_response_promise<std::vector<stream_entry>>();
        auto& prefix = self->state.cfg.key_prefix;
        submit(self, pending::op::range, rp,
               [&](resp_writer& out) { write_xrange(out, prefix, stream, after_id, count); });
        return rp;
      },
      [=](xinfo_atom, const std::string& stream) -> caf::result<stream_info> {
        if (stream.empty())
          return invalid_stream();
        auto rp = self->make_response_promise<stream_info>();
        auto& prefix = self->state.cfg.key_prefix;
        submit(self, pending::op::info, rp,
               [&](resp_writer& out) { write_xinfo(out, prefix, stream); });
        return rp;
      },
      [=](xread_atom a, const std::string& stream, const std::string& last_id, uint64_t count,
          caf::timespan block) -> caf::result<std::vector<stream_entry>> {
        if (stream.empty())
          return invalid_stream();
        auto rp = self->make_response_promise<std::vector<stream_entry>>();
        // Redis would hold every later command on this connection behind a blocking read.
        if (block_millis(block) > 0) {
          rp.delegate(self->state.reader, a, stream, last_id, count, block);
          return rp;
        }
        auto& prefix = self->state.cfg.key_prefix;
        submit(self, pending::op::read, rp,
               [&](resp_writer& out) { write_xread(out, prefix, stream, last_id, count, 0); });
        return rp;
      },
      [=](stats_atom) -> caf::result<tier_stats> {
        auto& st = self->state;
        auto own = st.stats;
        st.session.report(own);
        auto rp = self->make_response_promise<tier_stats>();
        self->request(st.reader, st.cfg.request_timeout, stats_atom::value)
            .then(
                [=](const tier_stats& r) mutable {
                  own.hits += r.hits;
                  own.errors += r.errors;
                  own.timeouts += r.timeouts;
                  own.reconnects += r.reconnects;
                  own.connected = own.connected && r.connected;
                  rp.deliver(own);
                },
                [=](caf::error&) mutable {
                  own.connected = false;
                  rp.deliver(own);
                });
        return rp;
      },
      [=](health_atom) -> caf::result<tier_health> {
        auto rp = self->make_response_promise<tier_health>();
        submit(self, pending::op::ping, rp, [](resp_writer& out) { out.begin(1).arg("PING"); });
        return rp;
      });
}

} // namespace

caf::expected<streams_actor> spawn_redis_streams(caf::actor_system& sys,
                                                 const redis_tier_config& cfg,
                                                 const std::string& stream) {
  auto url = resolve_redis_url(cfg.url);
  if (!url)
    return std::move(url.error());
  if (url->mode == redis_url::topology::cluster)
    url->route_key = stream;
  return sys.middleman().spawn_broker(redis_streams, cfg, std::move(*url));
}

} // namespace mtcache::detail
