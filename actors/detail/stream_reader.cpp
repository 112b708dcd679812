#include "mtcache/actors/detail/stream_reader.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/typed_broker.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <hiredis/hiredis.h>

#include "mtcache/redis/cluster_topology.hpp"
#include "mtcache/redis/redis_session.hpp"
#include "mtcache/redis/stream_protocol.hpp"

namespace mtcache::detail {

namespace {

using reader_broker = redis_session_broker<stream_reader_actor>;

// A read not yet sent to Redis.
struct waiting_read {
  std::string stream;
  std::string last_id;
  uint64_t count = 0;
  // When its block time ends (steady clock, ms); it is sent with what is left of it.
  int64_t block_until_ms = 0;
  caf::response_promise rp;
};

// The read Redis is working on.
struct sent_read {
  uint8_t replies = 1;
  int64_t deadline_ms = 0;
  caf::response_promise rp;
};

struct stream_reader_state {
  redis_tier_config cfg;
  redis_session<sent_read> session;
  std::deque<waiting_read> waiting;
  tier_stats stats;

  static inline const char* name = "mtcache.stream_reader";
};

using self_ptr = caf::stateful_actor<stream_reader_state, reader_broker>*;

auto failer(self_ptr self) {
  return [self](sent_read& r, const caf::error& err) {
    ++self->state.stats.errors;
    r.rp.deliver(err);
  };
}

// Sends the next waiting read once Redis is done with the previous one. Called after every
// message that may finish a read, never from inside a session callback (the session may
// be about to close the connection the read would be written to).
void pump(self_ptr self) {
  auto& st = self->state;
  while (st.session.pending() == 0 && !st.waiting.empty()) {
    auto next = std::move(st.waiting.front());
    st.waiting.pop_front();
    auto left = std::max<int64_t>(next.block_until_ms - st.session.now_ms(), 0);
    st.session.submit(
        self, sent_read{1, 0, std::move(next.rp)},
        [&](resp_writer& out) {
          write_xread(out, st.cfg.key_prefix, next.stream, next.last_id, next.count, left);
        },
        failer(self), std::chrono::milliseconds{left});
  }
}

void complete(self_ptr self, sent_read& r, std::vector<redis_reply_ptr>& replies) {
  auto* reply = replies[0].get();
  auto entries = parse_stream_read(reply);
  if (!entries) {
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string text{reply->str, reply->len};
      if (parse_cluster_error(text).what != cluster_redirect::kind::none)
        self->state.session.reconnect_soon(
            make_error(errc::backend_unavailable, "the audit stream moved: " + text));
    }
    failer(self)(r, entries.error());
    return;
  }
  self->state.stats.hits += entries->size();
  r.rp.deliver(std::move(*entries));
}

reader_broker::behavior_type stream_reader(self_ptr self, redis_tier_config cfg, redis_url url) {
  auto& st = self->state;
  st.cfg = cfg;
  st.stats.kind = "streams";
  st.session = redis_session<sent_read>::open(self, std::move(url), cfg);
  // Callers wait on their promises: answer them rather than leave them to their timeouts.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    auto err = make_error(errc::shutting_down, "the stream reader is shutting down");
    st.session.shut_down(self, err, failer(self));
    for (auto& w : st.waiting)
      w.rp.deliver(err);
    st.waiting.clear();
    self->quit(msg.reason);
  });
  auto on_reply = [=](sent_read& r, std::vector<redis_reply_ptr>& replies) {
    complete(self, r, replies);
  };
  return session_behavior<reader_broker::behavior_type>(
      self, on_reply, failer(self), [=] { pump(self); },
      [=](xread_atom, std::string& stream, std::string& last_id, uint64_t count,
          caf::timespan block) -> caf::result<std::vector<stream_entry>> {
        auto& st = self->state;
        if (st.waiting.size() >= redis_session<sent_read>::max_pending) {
          ++st.stats.errors;
          return make_error(errc::backend_unavailable, "too many reads waiting for redis");
        }
        auto rp = self->make_response_promise<std::vector<stream_entry>>();
        auto until = st.session.now_ms() + block_millis(block);
        st.waiting.push_back({std::move(stream), std::move(last_id), count, until, rp});
        pump(self);
        return rp;
      },
      [=](stats_atom) {
        auto& st = self->state;
        auto res = st.stats;
        st.session.report(res);
        return res;
      });
}

} // namespace

stream_reader_actor spawn_stream_reader(caf::actor_system& sys, const redis_tier_config& cfg,
                                        redis_url url) {
  return sys.middleman().spawn_broker(stream_reader, cfg, std::move(url));
}

} // namespace mtcache::detail
