// One memcached server as a tier: the meta protocol over a pipelined session (the Redis
// tier's machinery, redis/redis_session.hpp, with memcached/memcached_connection.hpp's
// protocol). Each request is an entry of the session that consumes one reply per command
// it wrote; batches write one command per key and consume as many replies.

#include "mtcache/actors/detail/memcached_shard.hpp"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/typed_broker.hpp>
#include <caf/stateful_actor.hpp>

#include "mtcache/codec/detail/memcached_key.hpp"
#include "mtcache/codec/detail/meta_protocol.hpp"
#include "mtcache/memcached/memcached_connection.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

struct pending {
  enum class op : uint8_t {
    get,
    probe,
    get_batch,
    put,
    put_batch,
    remove,
    remove_batch,
    exists,
    ping,
    flush
  };
  op what;
  // Replies this entry consumes: one per command written.
  uint32_t replies;
  int64_t deadline_ms;
  caf::response_promise rp;
  // Probe only: the caller's key, where a miss continues and the caller's context.
  std::string key;
  miss_route route;
  caf::message context;
  // put / put_batch: writes refused here for their size (a removal went out instead).
  std::vector<bool> refused;
};

struct shard_state {
  memcached_tier_config cfg;
  memcached_server server;
  std::string server_name;
  uint32_t level = 0;
  memcached_session<pending> session;
  tier_stats stats;

  static inline const char* name = "mtcache.memcached_tier";
};

using broker_type = session_broker<batch_tier_actor>;
using self_ptr = caf::stateful_actor<shard_state, broker_type>*;

pending make_pending(pending::op what, uint32_t replies, caf::response_promise rp) {
  pending p;
  p.what = what;
  p.replies = replies;
  p.rp = std::move(rp);
  return p;
}

// Answers an entry that will not get its replies.
void fail(self_ptr self, pending& p, const caf::error& err) {
  auto& st = self->state;
  st.stats.errors += p.what == pending::op::put_batch || p.what == pending::op::get_batch ||
                             p.what == pending::op::remove_batch
                         ? p.replies
                         : 1;
  switch (p.what) {
  case pending::op::probe:
    p.rp.delegate(p.route, miss_atom::value, std::move(p.key), true, std::move(p.context));
    return;
  case pending::op::ping:
    p.rp.deliver(tier_health{st.level, "memcached", false,
                             st.server_name + ": " + self->system().render(err), 0});
    return;
  default:
    p.rp.deliver(err);
  }
}

auto failer(self_ptr self) {
  return [self](pending& p, const caf::error& err) { fail(self, p, err); };
}

template <class Write>
void submit(self_ptr self, pending p, Write write) {
  self->state.session.submit(self, std::move(p), write, failer(self));
}

memcached_key wire_key(self_ptr self, const std::string& key) {
  return to_memcached_key(self->state.cfg.key_prefix, key);
}

int64_t unix_now() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

// Whether `value` under `key` cannot fit an item: such a write removes the key instead
// (memcached drops an older value itself when it refuses one; so do we).
bool too_large_for_item(self_ptr self, const memcached_key& key, const bytes& value) {
  auto limit = self->state.cfg.max_item_bytes;
  // memcached's item header, CAS and line ends come on top of key and value.
  constexpr size_t item_overhead = 64;
  return limit > 0 && value.size() + key.text.size() + item_overhead > limit;
}

void write_set(meta_writer& out, const memcached_key& key, const bytes& value, caf::timespan ttl,
               bool refused, int64_t now_s) {
  if (refused)
    out.remove(key);
  else
    out.set(key, value.view(), memcached_exptime(ttl, now_s));
}

caf::error too_large(self_ptr self) {
  return make_error(errc::value_too_large,
                    "the value does not fit memcached's item size (" +
                        std::to_string(self->state.cfg.max_item_bytes) +
                        " bytes with key and item header); the key was removed there");
}

caf::error server_error(const meta_reply& r) {
  if (r.message.find("too large") != std::string::npos)
    return make_error(errc::value_too_large, "memcached: " + r.message);
  return make_error(errc::backend_error, "memcached: " + r.message);
}

// The lookup a `mg … v t` reply makes; counts the hit or miss.
lookup decode_read(shard_state& st, meta_reply& r) {
  if (r.what != meta_reply::kind::value) {
    ++st.stats.misses;
    return {};
  }
  ++st.stats.hits;
  lookup res;
  res.found = true;
  res.value = std::move(r.value);
  res.ttl_ms = r.ttl >= 0 ? r.ttl * 1000 : -1;
  res.level = st.level;
  return res;
}

// The outcome of one write's reply.
caf::error write_outcome(self_ptr self, const meta_reply& r, bool refused) {
  auto& st = self->state;
  if (refused) {
    ++st.stats.errors;
    return too_large(self);
  }
  if (r.what == meta_reply::kind::done) {
    ++st.stats.writes;
    return caf::none;
  }
  ++st.stats.errors;
  if (r.what == meta_reply::kind::server_error)
    return server_error(r);
  return make_error(errc::backend_error, "memcached did not store the value");
}

// Answers the front entry with its complete replies.
void complete(self_ptr self, pending& p, std::vector<meta_reply>& replies) {
  auto& st = self->state;
  auto& r = replies[0];
  switch (p.what) {
  case pending::op::get:
  case pending::op::probe: {
    if (r.what == meta_reply::kind::server_error) {
      fail(self, p, server_error(r));
      return;
    }
    auto res = decode_read(st, r);
    if (!res.found && p.what == pending::op::probe)
      p.rp.delegate(p.route, miss_atom::value, std::move(p.key), false, std::move(p.context));
    else
      p.rp.deliver(std::move(res));
    return;
  }
  case pending::op::get_batch: {
    read_batch out;
    out.results.reserve(replies.size());
    for (size_t k = 0; k < replies.size(); ++k) {
      if (replies[k].what == meta_reply::kind::server_error) {
        ++st.stats.errors;
        out.failed.push_back(static_cast<uint32_t>(k));
        out.results.emplace_back();
      } else {
        out.results.emplace_back(decode_read(st, replies[k]));
      }
    }
    p.rp.deliver(std::move(out));
    return;
  }
  case pending::op::put: {
    auto err = write_outcome(self, r, p.refused[0]);
    if (err)
      p.rp.deliver(std::move(err));
    else
      p.rp.deliver(ok_atom::value);
    return;
  }
  case pending::op::put_batch: {
    std::vector<caf::error> results(replies.size());
    for (size_t k = 0; k < replies.size(); ++k)
      results[k] = write_outcome(self, replies[k], p.refused[k]);
    p.rp.deliver(std::move(results));
    return;
  }
  case pending::op::remove:
  case pending::op::remove_batch: {
    uint64_t n = 0;
    for (auto& x : replies)
      n += x.what == meta_reply::kind::done ? 1 : 0;
    st.stats.removes += n;
    p.rp.deliver(n);
    return;
  }
  case pending::op::exists:
    p.rp.deliver(r.what == meta_reply::kind::done || r.what == meta_reply::kind::value);
    return;
  case pending::op::ping: {
    auto sent = p.deadline_ms - st.cfg.request_timeout.count();
    p.rp.deliver(tier_health{st.level, "memcached", true, st.server_name + ": MN",
                             (st.session.now_ms() - sent) * 1000});
    return;
  }
  case pending::op::flush:
    if (r.what == meta_reply::kind::ok)
      p.rp.deliver(uint64_t{0});
    else
      fail(self, p, make_error(errc::backend_error, "memcached refused flush_all"));
    return;
  }
}

broker_type::behavior_type memcached_shard(self_ptr self, memcached_tier_config cfg,
                                           memcached_server server, uint32_t level) {
  auto& st = self->state;
  st.cfg = cfg;
  st.server = server;
  st.server_name = to_string(server);
  st.level = level;
  st.stats.level = level;
  st.stats.kind = "memcached";
  st.session = memcached_session<pending>::open(self, std::move(server), cfg);
  // Answer what is still pending rather than leave callers to their own timeouts.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->state.session.shut_down(
        self, make_error(errc::shutting_down, "the memcached tier is shutting down"), failer(self));
    self->quit(msg.reason);
  });
  auto on_reply = [=](pending& p, std::vector<meta_reply>& replies) { complete(self, p, replies); };
  return session_behavior<broker_type::behavior_type>(
      self, on_reply, failer(self), [] {},
      [=](get_atom, const std::string& key) -> caf::result<lookup> {
        auto rp = self->make_response_promise<lookup>();
        submit(self, make_pending(pending::op::get, 1, rp),
               [&](meta_writer& out) { out.get(wire_key(self, key)); });
        return rp;
      },
      [=](get_atom, std::string& key, miss_route& route,
          caf::message& context) -> caf::result<lookup> {
        auto rp = self->make_response_promise<lookup>();
        auto p = make_pending(pending::op::probe, 1, rp);
        p.route = std::move(route);
        p.context = std::move(context);
        p.key = key;
        submit(self, std::move(p), [&](meta_writer& out) { out.get(wire_key(self, key)); });
        return rp;
      },
      [=](get_atom, const std::vector<std::string>& keys) -> caf::result<read_batch> {
        if (keys.empty())
          return read_batch{};
        auto rp = self->make_response_promise<read_batch>();
        auto n = static_cast<uint32_t>(keys.size());
        submit(self, make_pending(pending::op::get_batch, n, rp), [&](meta_writer& out) {
          for (auto& key : keys)
            out.get(wire_key(self, key));
        });
        return rp;
      },
      [=](get_atom, stale_atom, const std::string&) {
        // memcached drops expired items itself; there is nothing stale to offer.
        return lookup{};
      },
      [=](put_atom, const std::string& key, const bytes& value,
          caf::timespan ttl) -> caf::result<ok_atom> {
        auto rp = self->make_response_promise<ok_atom>();
        auto p = make_pending(pending::op::put, 1, rp);
        auto wk = wire_key(self, key);
        p.refused.push_back(too_large_for_item(self, wk, value));
        bool refused = p.refused[0];
        submit(self, std::move(p),
               [&](meta_writer& out) { write_set(out, wk, value, ttl, refused, unix_now()); });
        return rp;
      },
      [=](put_atom, const std::vector<tier_write>& writes) -> caf::result<std::vector<caf::error>> {
        if (writes.empty())
          return std::vector<caf::error>{};
        auto rp = self->make_response_promise<std::vector<caf::error>>();
        auto p = make_pending(pending::op::put_batch, static_cast<uint32_t>(writes.size()), rp);
        std::vector<memcached_key> keys;
        keys.reserve(writes.size());
        p.refused.reserve(writes.size());
        for (auto& w : writes) {
          keys.emplace_back(wire_key(self, w.key));
          p.refused.push_back(too_large_for_item(self, keys.back(), w.value));
        }
        auto refused = p.refused;
        auto now = unix_now();
        submit(self, std::move(p), [&](meta_writer& out) {
          for (size_t k = 0; k < writes.size(); ++k)
            write_set(out, keys[k], writes[k].value, writes[k].ttl, refused[k], now);
        });
        return rp;
      },
      [=](delete_atom, const std::string& key) -> caf::result<uint64_t> {
        auto rp = self->make_response_promise<uint64_t>();
        submit(self, make_pending(pending::op::remove, 1, rp),
               [&](meta_writer& out) { out.remove(wire_key(self, key)); });
        return rp;
      },
      [=](delete_atom, const std::vector<std::string>& keys) -> caf::result<uint64_t> {
        if (keys.empty())
          return uint64_t{0};
        auto rp = self->make_response_promise<uint64_t>();
        auto n = static_cast<uint32_t>(keys.size());
        submit(self, make_pending(pending::op::remove_batch, n, rp), [&](meta_writer& out) {
          for (auto& key : keys)
            out.remove(wire_key(self, key));
        });
        return rp;
      },
      [=](delete_atom, match_atom, const std::string& pattern) -> caf::result<uint64_t> {
        return make_error(errc::not_supported, "memcached cannot remove keys by pattern ('" +
                                                   pattern + "'): it has no way to list its keys");
      },
      [=](clear_atom) -> caf::result<uint64_t> {
        if (!self->state.cfg.key_prefix.empty())
          return make_error(errc::not_supported,
                            "memcached cannot drop the keys of one prefix; clear needs an "
                            "empty key_prefix (it then flushes the whole server)");
        auto rp = self->make_response_promise<uint64_t>();
        submit(self, make_pending(pending::op::flush, 1, rp),
               [&](meta_writer& out) { out.flush_all(); });
        return rp;
      },
      [=](exists_atom, const std::string& key) -> caf::result<bool> {
        auto rp = self->make_response_promise<bool>();
        submit(self, make_pending(pending::op::exists, 1, rp),
               [&](meta_writer& out) { out.exists(wire_key(self, key)); });
        return rp;
      },
      [=](stats_atom) {
        auto& st = self->state;
        auto res = st.stats;
        st.session.report(res);
        return res;
      },
      [=](health_atom) -> caf::result<tier_health> {
        auto rp = self->make_response_promise<tier_health>();
        submit(self, make_pending(pending::op::ping, 1, rp), [&](meta_writer& out) { out.noop(); });
        return rp;
      });
}

} // namespace

batch_tier_actor spawn_memcached_shard(caf::actor_system& sys, const memcached_tier_config& cfg,
                                       memcached_server server, uint32_t level) {
  return sys.middleman().spawn_broker(memcached_shard, cfg, std::move(server), level);
}

} // namespace mtcache::detail
