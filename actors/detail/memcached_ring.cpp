#include "mtcache/actors/detail/memcached_ring.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/codec/detail/ketama.hpp"
#include "mtcache/codec/detail/memcached_key.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

struct ring_state {
  memcached_tier_config cfg;
  uint32_t level = 0;
  std::vector<batch_tier_actor> shards;
  std::unique_ptr<ketama_ring> ring;

  static inline const char* name = "mtcache.memcached_ring";
};

using self_ptr = batch_tier_actor::stateful_pointer<ring_state>;

size_t shard_of(const ring_state& st, const std::string& key) {
  return st.ring->server_of(memcached_stored_key(st.cfg.key_prefix, key));
}

// Shards answer within their request timeout (checked every quarter of it); this only
// guards against a shard that is gone.
caf::duration shard_wait(const ring_state& st) {
  return caf::duration{st.cfg.request_timeout * 2 + std::chrono::seconds{1}};
}

// The positions of `keys` per shard.
template <class T, class Key>
std::vector<std::vector<uint32_t>> split(const ring_state& st, const std::vector<T>& items,
                                         Key key) {
  std::vector<std::vector<uint32_t>> out(st.shards.size());
  for (uint32_t k = 0; k < items.size(); ++k)
    out[shard_of(st, key(items[k]))].push_back(k);
  return out;
}

// Asks every shard with a share of the request (`ask(shard, positions)` returns the
// request handle) and calls `merge(positions, expected<Reply>)` per answer, then `done()`.
template <class Reply, class Ask, class Merge, class Done>
void fan_out(self_ptr self, std::vector<std::vector<uint32_t>> parts, Ask ask, Merge merge,
             Done done) {
  auto outstanding = std::make_shared<size_t>(0);
  for (auto& part : parts)
    if (!part.empty())
      ++*outstanding;
  if (*outstanding == 0) {
    done();
    return;
  }
  for (size_t s = 0; s < parts.size(); ++s) {
    if (parts[s].empty())
      continue;
    auto positions = std::make_shared<std::vector<uint32_t>>(std::move(parts[s]));
    ask(self->state.shards[s], *positions)
        .then(
            [=](Reply& x) mutable {
              merge(*positions, caf::expected<Reply>{std::move(x)});
              if (--*outstanding == 0)
                done();
            },
            [=](caf::error& err) mutable {
              merge(*positions, caf::expected<Reply>{std::move(err)});
              if (--*outstanding == 0)
                done();
            });
  }
}

// Every shard for the whole request: `merge(expected<Reply>)` per answer, then `done()`.
template <class Reply, class Merge, class Done, class... Ts>
void ask_all(self_ptr self, Merge merge, Done done, Ts... xs) {
  std::vector<std::vector<uint32_t>> parts(self->state.shards.size(), std::vector<uint32_t>{0});
  fan_out<Reply>(
      self, std::move(parts),
      [=](const batch_tier_actor& shard, const std::vector<uint32_t>&) {
        return self->request(shard, shard_wait(self->state), xs...);
      },
      [merge](const std::vector<uint32_t>&, caf::expected<Reply> x) mutable {
        merge(std::move(x));
      },
      done);
}

template <class T>
std::vector<T> pick(const std::vector<T>& items, const std::vector<uint32_t>& positions) {
  std::vector<T> out;
  out.reserve(positions.size());
  for (auto k : positions)
    out.push_back(items[k]);
  return out;
}

// Sums the counts the shards answer; the first error wins.
auto summed(caf::typed_response_promise<uint64_t> rp) {
  struct total {
    uint64_t n = 0;
    caf::error err;
  };
  auto sum = std::make_shared<total>();
  auto merge = [sum](caf::expected<uint64_t> x) {
    if (x)
      sum->n += *x;
    else if (!sum->err)
      sum->err = std::move(x.error());
  };
  auto done = [sum, rp]() mutable {
    if (sum->err)
      rp.deliver(std::move(sum->err));
    else
      rp.deliver(sum->n);
  };
  return std::make_pair(merge, done);
}

batch_tier_actor::behavior_type memcached_ring(self_ptr self, memcached_tier_config cfg,
                                               std::vector<memcached_server> servers,
                                               std::vector<batch_tier_actor> shards,
                                               uint32_t level) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.level = level;
  st.ring = std::make_unique<ketama_ring>(servers);
  st.shards = std::move(shards);
  for (auto& shard : st.shards)
    self->link_to(shard);
  auto owner = [self](const std::string& key) -> const batch_tier_actor& {
    return self->state.shards[shard_of(self->state, key)];
  };
  return {
      [=](get_atom get, const std::string& key) { return self->delegate(owner(key), get, key); },
      [=](get_atom get, const std::string& key, miss_route& route, caf::message& context) {
        return self->delegate(owner(key), get, key, std::move(route), std::move(context));
      },
      [=](get_atom, const std::vector<std::string>& keys) -> caf::result<read_batch> {
        auto rp = self->make_response_promise<read_batch>();
        auto out = std::make_shared<read_batch>();
        out->results.resize(keys.size());
        fan_out<read_batch>(
            self,
            split(
                self->state, keys, [](const std::string& k) -> auto& { return k; }),
            [=](const batch_tier_actor& shard, const std::vector<uint32_t>& positions) {
              return self->request(shard, shard_wait(self->state), get_atom::value,
                                   pick(keys, positions));
            },
            [out](const std::vector<uint32_t>& positions, caf::expected<read_batch> x) {
              for (size_t j = 0; j < positions.size(); ++j)
                if (x && j < x->results.size())
                  out->results[positions[j]] = std::move(x->results[j]);
                else
                  out->failed.push_back(positions[j]);
              if (x)
                for (auto j : x->failed)
                  if (j < positions.size())
                    out->failed.push_back(positions[j]);
            },
            [out, rp]() mutable {
              std::sort(out->failed.begin(), out->failed.end());
              rp.deliver(std::move(*out));
            });
        return rp;
      },
      [=](get_atom, stale_atom, const std::string&) { return lookup{}; },
      [=](put_atom put, const std::string& key, const bytes& value, caf::timespan ttl) {
        return self->delegate(owner(key), put, key, value, ttl);
      },
      [=](put_atom, const std::vector<tier_write>& writes) -> caf::result<std::vector<caf::error>> {
        auto rp = self->make_response_promise<std::vector<caf::error>>();
        auto out = std::make_shared<std::vector<caf::error>>(writes.size());
        fan_out<std::vector<caf::error>>(
            self,
            split(
                self->state, writes, [](const tier_write& w) -> auto& { return w.key; }),
            [=](const batch_tier_actor& shard, const std::vector<uint32_t>& positions) {
              return self->request(shard, shard_wait(self->state), put_atom::value,
                                   pick(writes, positions));
            },
            [out](const std::vector<uint32_t>& positions,
                  caf::expected<std::vector<caf::error>> x) {
              for (size_t j = 0; j < positions.size(); ++j)
                (*out)[positions[j]] = !x ? x.error()
                                       : j < x->size()
                                           ? (*x)[j]
                                           : make_error(errc::backend_error, "short batch answer");
            },
            [out, rp]() mutable { rp.deliver(std::move(*out)); });
        return rp;
      },
      [=](delete_atom del, const std::string& key) { return self->delegate(owner(key), del, key); },
      [=](delete_atom, const std::vector<std::string>& keys) -> caf::result<uint64_t> {
        auto rp = self->make_response_promise<uint64_t>();
        auto [merge, done] = summed(rp);
        fan_out<uint64_t>(
            self,
            split(
                self->state, keys, [](const std::string& k) -> auto& { return k; }),
            [=](const batch_tier_actor& shard, const std::vector<uint32_t>& positions) {
              return self->request(shard, shard_wait(self->state), delete_atom::value,
                                   pick(keys, positions));
            },
            [merge = merge](const std::vector<uint32_t>&, caf::expected<uint64_t> x) mutable {
              merge(std::move(x));
            },
            done);
        return rp;
      },
      [=](delete_atom, match_atom, const std::string& pattern) -> caf::result<uint64_t> {
        return make_error(errc::not_supported, "memcached cannot remove keys by pattern ('" +
                                                   pattern + "'): it has no way to list its keys");
      },
      [=](clear_atom) -> caf::result<uint64_t> {
        auto rp = self->make_response_promise<uint64_t>();
        auto [merge, done] = summed(rp);
        ask_all<uint64_t>(self, merge, done, clear_atom::value);
        return rp;
      },
      [=](exists_atom ex, const std::string& key) { return self->delegate(owner(key), ex, key); },
      [=](stats_atom) -> caf::result<tier_stats> {
        auto rp = self->make_response_promise<tier_stats>();
        auto total = std::make_shared<tier_stats>();
        total->level = self->state.level;
        total->kind = "memcached";
        ask_all<tier_stats>(
            self,
            [total](caf::expected<tier_stats> x) {
              if (!x) {
                ++total->errors;
                total->connected = false;
                return;
              }
              total->hits += x->hits;
              total->misses += x->misses;
              total->writes += x->writes;
              total->removes += x->removes;
              total->errors += x->errors;
              total->timeouts += x->timeouts;
              total->reconnects += x->reconnects;
              total->connected = total->connected && x->connected;
            },
            [total, rp]() mutable { rp.deliver(std::move(*total)); }, stats_atom::value);
        return rp;
      },
      [=](health_atom) -> caf::result<tier_health> {
        auto rp = self->make_response_promise<tier_health>();
        auto all = std::make_shared<tier_health>();
        all->level = self->state.level;
        all->kind = "memcached";
        all->ok = true;
        auto up = std::make_shared<size_t>(0);
        auto n = self->state.shards.size();
        ask_all<tier_health>(
            self,
            [all, up](caf::expected<tier_health> x) {
              if (!x) {
                all->ok = false;
                all->detail += "; a server did not answer";
                return;
              }
              *up += x->ok ? 1 : 0;
              all->ok = all->ok && x->ok;
              all->latency_us = std::max(all->latency_us, x->latency_us);
              all->detail += "; " + x->detail;
            },
            [all, up, n, rp]() mutable {
              all->detail =
                  std::to_string(*up) + " of " + std::to_string(n) + " servers up" + all->detail;
              rp.deliver(std::move(*all));
            },
            health_atom::value);
        return rp;
      },
  };
}

} // namespace

batch_tier_actor spawn_memcached_ring(caf::actor_system& sys, const memcached_tier_config& cfg,
                                      std::vector<memcached_server> servers,
                                      std::vector<batch_tier_actor> shards, uint32_t level) {
  return sys.spawn(memcached_ring, cfg, std::move(servers), std::move(shards), level);
}

} // namespace mtcache::detail
