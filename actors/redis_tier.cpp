#include "mtcache/actors/redis_tier.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/typed_broker.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <hiredis/hiredis.h>

#include "mtcache/actors/detail/latency.hpp"
#include "mtcache/actors/detail/redis_cluster_tier.hpp"
#include "mtcache/actors/detail/redis_commands.hpp"
#include "mtcache/actors/detail/redis_tier_state.hpp"
#include "mtcache/codec/detail/glob.hpp"
#include "mtcache/codec/detail/resp.hpp"
#include "mtcache/codec/redis_url.hpp"

namespace mtcache::detail {

namespace {

constexpr const char* op_names[] = {"get",    "set",  "get_batch", "set_batch",
                                    "remove", "scan", "other"};

// How long the command took, once, if it went out (a command failed before it was sent
// took no time at Redis and would only flatter the histogram).
void observe_latency(redis_tier_state& st, pending& p) {
  if (p.deadline_ms == 0)
    return;
  observe(op_stats(st, p.what).latency, std::chrono::steady_clock::now() - p.sent);
  p.deadline_ms = 0;
}

} // namespace

backend_op_stats& op_stats(redis_tier_state& st, pending::op what) {
  size_t i = 6;
  switch (what) {
  case pending::op::get:
  case pending::op::probe:
    i = 0;
    break;
  case pending::op::put:
    i = 1;
    break;
  case pending::op::get_batch:
    i = 2;
    break;
  case pending::op::put_batch:
    i = 3;
    break;
  case pending::op::remove:
  case pending::op::unlink:
    i = 4;
    break;
  case pending::op::scan:
    i = 5;
    break;
  case pending::op::exists:
  case pending::op::ping:
  case pending::op::track:
  case pending::op::lease:
  case pending::op::release:
    break;
  }
  return st.ops[i];
}

void fail(self_ptr self, pending& p, const caf::error& err) {
  auto& st = self->state;
  auto errors = p.what == pending::op::put_batch   ? p.replies
                : p.what == pending::op::get_batch ? p.replies - 1
                                                   : 1;
  st.stats.errors += errors;
  op_stats(st, p.what).errors += errors;
  observe_latency(st, p);
  switch (p.what) {
  case pending::op::probe:
    p.rp.delegate(p.route, miss_atom::value, std::move(p.key), true, std::move(p.context));
    return;
  case pending::op::ping: {
    tier_health h{st.level, "redis", false, self->system().render(err), 0};
    p.rp.deliver(std::move(h));
    return;
  }
  case pending::op::track:
    if (p.rp.pending())
      p.rp.deliver(err);
    return;
  case pending::op::scan:
  case pending::op::unlink: {
    auto i = st.jobs.find(p.job);
    if (i != st.jobs.end()) {
      i->second.rp.deliver(err);
      st.jobs.erase(i);
    }
    return;
  }
  default:
    p.rp.deliver(err);
  }
}

namespace {

void submit_read(self_ptr self, pending p, const std::string& key) {
  auto& prefix = self->state.cfg.key_prefix;
  submit(self, std::move(p), [&](resp_writer& out) {
    out.begin(2).arg("GET").arg(prefix, key);
    out.begin(2).arg("PTTL").arg(prefix, key);
  });
}

} // namespace

namespace {

// Answers the front entry with its complete replies.
void complete(self_ptr self, pending& p, std::vector<redis_reply_ptr>& replies) {
  auto& st = self->state;
  auto* r = replies[0].get();
  if (r->type == REDIS_REPLY_ERROR && p.what != pending::op::scan &&
      p.what != pending::op::unlink && p.what != pending::op::put_batch &&
      p.what != pending::op::get_batch) {
    fail(self, p, reply_error(r));
    return;
  }
  observe_latency(st, p);
  switch (p.what) {
  case pending::op::get:
  case pending::op::probe: {
    auto res = decode_read(st.stats, st.level, r, replies[1].get());
    if (!res.found && p.what == pending::op::probe)
      p.rp.delegate(p.route, miss_atom::value, std::move(p.key), false, std::move(p.context));
    else
      p.rp.deliver(std::move(res));
    return;
  }
  case pending::op::get_batch: {
    // One MGET, then a PTTL per key.
    auto n = replies.size() - 1;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
      fail(self, p,
           r->type == REDIS_REPLY_ERROR ? reply_error(r)
                                        : make_error(errc::backend_error, "unexpected MGET reply"));
      return;
    }
    read_batch out;
    out.results.reserve(n);
    for (size_t k = 0; k < n; ++k) {
      auto* ttl = replies[k + 1].get();
      if (ttl->type == REDIS_REPLY_ERROR) {
        ++st.stats.errors;
        ++op_stats(st, p.what).errors;
        out.failed.push_back(static_cast<uint32_t>(k));
        out.results.emplace_back();
      } else {
        out.results.emplace_back(decode_read(st.stats, st.level, r->element[k], ttl));
      }
    }
    p.rp.deliver(std::move(out));
    return;
  }
  case pending::op::put:
    ++st.stats.writes;
    p.rp.deliver(ok_atom::value);
    return;
  case pending::op::put_batch: {
    std::vector<caf::error> results(replies.size());
    for (size_t k = 0; k < replies.size(); ++k) {
      if (replies[k]->type == REDIS_REPLY_ERROR) {
        ++st.stats.errors;
        ++op_stats(st, p.what).errors;
        results[k] = reply_error(replies[k].get());
      } else {
        ++st.stats.writes;
      }
    }
    p.rp.deliver(std::move(results));
    return;
  }
  case pending::op::remove: {
    auto n = static_cast<uint64_t>(r->type == REDIS_REPLY_INTEGER ? r->integer : 0);
    st.stats.removes += n;
    p.rp.deliver(n);
    return;
  }
  case pending::op::exists:
    p.rp.deliver(r->type == REDIS_REPLY_INTEGER && r->integer > 0);
    return;
  case pending::op::ping: {
    auto took = std::chrono::steady_clock::now() - p.sent;
    // A Sentinel tier says which primary answered and how often it moved.
    auto& link = st.session.link();
    auto detail = link.peer().empty() ? std::string{"PONG"}
                                      : "PONG from primary " + link.peer() + " (" +
                                            std::to_string(link.failovers()) + " failovers)";
    tier_health h{st.level, "redis", true, std::move(detail),
                  std::chrono::duration_cast<std::chrono::microseconds>(took).count()};
    p.rp.deliver(std::move(h));
    return;
  }
  case pending::op::unlink:
    complete_unlink(self, p, r);
    return;
  case pending::op::scan:
    complete_scan(self, p, r);
    return;
  case pending::op::track:
    complete_tracking(self, p, replies);
    return;
  case pending::op::lease:
  case pending::op::release:
    complete_lease(p, r);
    return;
  }
}

broker_type::behavior_type redis_tier(self_ptr self, redis_tier_config cfg, redis_url url,
                                      uint32_t level) {
  auto& st = self->state;
  st.cfg = cfg;
  st.level = level;
  st.stats.level = level;
  st.stats.kind = "redis";
  for (size_t i = 0; i < st.ops.size(); ++i)
    st.ops[i].op = op_names[i];
  st.session = redis_session<pending>::open(self, std::move(url), cfg);
  // Answer what is still pending rather than leave callers to their own timeouts.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    self->state.session.shut_down(
        self, make_error(errc::shutting_down, "the redis tier is shutting down"), failer(self));
    self->quit(msg.reason);
  });
  auto on_reply = [=](pending& p, std::vector<redis_reply_ptr>& replies) {
    complete(self, p, replies);
  };
  return session_behavior<broker_type::behavior_type>(
      self, on_reply, failer(self), [=] { on_link_change(self); },
      [=](track_atom, uint64_t redirect, std::vector<std::string>& prefixes, caf::actor& listener) {
        return start_tracking(self, redirect, std::move(prefixes), std::move(listener));
      },
      [=](lease_atom, const std::string& key, const std::string& token, caf::timespan time) {
        return take_lease(self, key, token, time);
      },
      [=](lease_atom, delete_atom, const std::string& key, const std::string& token) {
        return release_lease(self, key, token);
      },
      [=](get_atom, const std::string& key) -> caf::result<lookup> {
        auto rp = self->make_response_promise<lookup>();
        submit_read(self, make_pending(pending::op::get, 2, rp), key);
        return rp;
      },
      [=](get_atom, std::string& key, miss_route& route,
          caf::message& context) -> caf::result<lookup> {
        auto rp = self->make_response_promise<lookup>();
        auto p = make_pending(pending::op::probe, 2, rp);
        p.route = std::move(route);
        p.context = std::move(context);
        p.key = key;
        submit_read(self, std::move(p), key);
        return rp;
      },
      [=](get_atom, const std::vector<std::string>& keys) -> caf::result<read_batch> {
        if (keys.empty())
          return read_batch{};
        auto rp = self->make_response_promise<read_batch>();
        // MGET plus a PTTL per key: N + 1 commands for Redis to run rather than 2N. MGET
        // answers a key holding another type with nil, so such a key reads as a miss.
        auto n = static_cast<uint32_t>(keys.size());
        auto& prefix = self->state.cfg.key_prefix;
        submit(self, make_pending(pending::op::get_batch, n + 1, rp), [&](resp_writer& out) {
          out.begin(keys.size() + 1).arg("MGET");
          for (auto& key : keys)
            out.arg(prefix, key);
          for (auto& key : keys)
            out.begin(2).arg("PTTL").arg(prefix, key);
        });
        return rp;
      },
      [=](get_atom, stale_atom, const std::string&) {
        // Redis drops expired keys itself; there is nothing stale to offer.
        return lookup{};
      },
      [=](put_atom, const std::string& key, const bytes& value,
          caf::timespan ttl) -> caf::result<ok_atom> {
        auto rp = self->make_response_promise<ok_atom>();
        submit(self, make_pending(pending::op::put, 1, rp), [&](resp_writer& out) {
          write_set(out, self->state.cfg.key_prefix, key, value, ttl);
        });
        return rp;
      },
      [=](put_atom, const std::vector<tier_write>& writes) -> caf::result<std::vector<caf::error>> {
        if (writes.empty())
          return std::vector<caf::error>{};
        auto rp = self->make_response_promise<std::vector<caf::error>>();
        auto n = static_cast<uint32_t>(writes.size());
        submit(self, make_pending(pending::op::put_batch, n, rp), [&](resp_writer& out) {
          for (auto& w : writes)
            write_set(out, self->state.cfg.key_prefix, w.key, w.value, w.ttl);
        });
        return rp;
      },
      [=](delete_atom, const std::string& key) -> caf::result<uint64_t> {
        auto rp = self->make_response_promise<uint64_t>();
        auto& prefix = self->state.cfg.key_prefix;
        submit(self, make_pending(pending::op::remove, 1, rp),
               [&](resp_writer& out) { out.begin(2).arg("UNLINK").arg(prefix, key); });
        return rp;
      },
      [=](delete_atom, const std::vector<std::string>& keys) -> caf::result<uint64_t> {
        auto rp = self->make_response_promise<uint64_t>();
        if (keys.empty()) {
          rp.deliver(uint64_t{0});
          return rp;
        }
        unlink_keys(self, rp, keys);
        return rp;
      },
      [=](delete_atom, match_atom, const std::string& pattern) -> caf::result<uint64_t> {
        auto rp = self->make_response_promise<uint64_t>();
        unlink_matching(self, rp, glob::escape(self->state.cfg.key_prefix) + pattern);
        return rp;
      },
      [=](clear_atom) -> caf::result<uint64_t> {
        auto rp = self->make_response_promise<uint64_t>();
        unlink_matching(self, rp, glob::escape(self->state.cfg.key_prefix) + "*");
        return rp;
      },
      [=](exists_atom, const std::string& key) -> caf::result<bool> {
        auto rp = self->make_response_promise<bool>();
        auto& prefix = self->state.cfg.key_prefix;
        submit(self, make_pending(pending::op::exists, 1, rp),
               [&](resp_writer& out) { out.begin(2).arg("EXISTS").arg(prefix, key); });
        return rp;
      },
      [=](stats_atom) {
        auto& st = self->state;
        auto res = st.stats;
        st.session.report(res);
        res.ops.assign(st.ops.begin(), st.ops.end());
        return res;
      },
      [=](health_atom) -> caf::result<tier_health> {
        auto rp = self->make_response_promise<tier_health>();
        submit(self, make_pending(pending::op::ping, 1, rp),
               [&](resp_writer& out) { out.begin(1).arg("PING"); });
        return rp;
      });
}

} // namespace

} // namespace mtcache::detail

namespace mtcache {

caf::expected<batch_tier_actor> spawn_redis_tier(caf::actor_system& sys,
                                                 const redis_tier_config& cfg, uint32_t level) {
  auto url = resolve_redis_url(configured_url(cfg));
  if (!url)
    return std::move(url.error());
  if (url->mode == redis_url::topology::cluster)
    return detail::spawn_redis_cluster_tier(sys, cfg, std::move(*url), level);
  return sys.middleman().spawn_broker(detail::redis_tier, cfg, std::move(*url), level);
}

} // namespace mtcache
