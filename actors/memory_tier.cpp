#include "mtcache/actors/memory_tier.hpp"

#include <chrono>
#include <memory>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/actors/detail/tag_filter.hpp"
#include "mtcache/codec/detail/glob.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/store/memory_store.hpp"
#include "mtcache/store/read_view.hpp"

namespace mtcache::detail {

namespace {

// Sent by the read view's readers when their access records are due for the policy.
using drain_atom = caf::atom_constant<caf::atom("drain")>;

using memory_tier_actor =
    batch_tier_actor::extend<caf::reacts_to<sweep_atom>, caf::reacts_to<drain_atom>>;

struct memory_tier_state {
  std::unique_ptr<memory_store> store;
  memory_tier_config cfg;
  tier_stats stats;
  std::shared_ptr<read_view> view;

  static inline const char* name = "mtcache.memory_tier";
};

using self_ptr = memory_tier_actor::stateful_pointer<memory_tier_state>;

// The actor clock, so that the deterministic test scheduler controls expiry.
int64_t now_ms(self_ptr self) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(self->clock().now().time_since_epoch()).count();
}

int64_t to_ttl_ms(caf::timespan ttl) {
  if (ttl.count() <= 0)
    return 0;
  // Round up: a positive TTL must never turn into "no expiry".
  return std::chrono::ceil<std::chrono::milliseconds>(ttl).count();
}

lookup to_lookup(const std::optional<memory_store::found>& hit, uint32_t level) {
  if (!hit)
    return {};
  return lookup{true, hit->value, hit->ttl_ms, level, false};
}

// Hands the reads the view served to the policy, in the order each reader made them, and
// frees what the view unlinked. Before every write, so that the policy has seen the reads
// that came before it when it picks victims.
void drain(memory_tier_state& st) {
  if (!st.view)
    return;
  st.view->accesses().drain([&](const access_record& r) { st.store->record_read(r); });
  st.view->reclaim();
}

void attach_view(self_ptr self, std::shared_ptr<read_view> view) {
  auto& st = self->state;
  st.view = std::move(view);
  st.store->attach(st.view.get());
  // A weak reference: the view outlives the tier in its readers' hands.
  st.view->accesses().on_drain_due([weak = caf::actor_cast<caf::weak_actor_ptr>(self)] {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong), drain_atom::value);
  });
  // Readers must not keep serving what a stopped tier can no longer update.
  self->attach_functor([view = st.view](const caf::error&) {
    view->accesses().on_drain_due(nullptr);
    view->clear();
  });
}

memory_tier_actor::behavior_type memory_tier(self_ptr self, memory_tier_config cfg, uint32_t level,
                                             std::shared_ptr<read_view> view) {
  auto& st = self->state;
  st.store = std::make_unique<memory_store>(cfg);
  st.cfg = cfg;
  st.stats.level = level;
  st.stats.kind = "memory";
  if (view)
    attach_view(self, std::move(view));
  self->delayed_send(self, cfg.sweep_interval, sweep_atom::value);
  return {
      [=](get_atom, const std::string& key) {
        return to_lookup(self->state.store->get(key, now_ms(self)), self->state.stats.level);
      },
      // Answered to the reader itself, so a first tier with a view hands out what callers
      // get (a value with tags as its payload, or a miss once a tag removal hid it); every
      // other read answers what the store keeps, for the coordinator or flight to check.
      [=](get_atom, std::string& key, miss_route& route,
          caf::message& context) -> caf::result<lookup> {
        auto& st = self->state;
        auto res = to_lookup(st.store->get(key, now_ms(self)), st.stats.level);
        if (res.found && st.view && admit(res, st.view->tags()) == tag_verdict::hidden) {
          drain(st);
          st.store->remove(key);
        }
        if (!res.found)
          return self->delegate(route, miss_atom::value, std::move(key), false, std::move(context));
        return res;
      },
      [=](get_atom, const std::vector<std::string>& keys) {
        auto& st = self->state;
        auto now = now_ms(self);
        read_batch out;
        out.results.reserve(keys.size());
        for (auto& key : keys)
          out.results.emplace_back(to_lookup(st.store->get(key, now), st.stats.level));
        return out;
      },
      [=](get_atom, stale_atom, const std::string& key) {
        auto res =
            to_lookup(self->state.store->get_stale(key, now_ms(self)), self->state.stats.level);
        res.stale = res.found;
        return res;
      },
      [=](put_atom, const std::string& key, bytes& value, caf::timespan ttl) {
        drain(self->state);
        ++self->state.stats.writes;
        self->state.store->put(key, std::move(value), to_ttl_ms(ttl), now_ms(self));
        return ok_atom::value;
      },
      [=](put_atom, std::vector<tier_write>& writes) {
        auto& st = self->state;
        drain(st);
        auto now = now_ms(self);
        st.stats.writes += writes.size();
        for (auto& w : writes)
          st.store->put(w.key, std::move(w.value), to_ttl_ms(w.ttl), now);
        return std::vector<caf::error>(writes.size());
      },
      [=](delete_atom, const std::string& key) -> uint64_t {
        drain(self->state);
        auto removed = self->state.store->remove(key) ? 1u : 0u;
        self->state.stats.removes += removed;
        return removed;
      },
      [=](delete_atom, const std::vector<std::string>& keys) {
        drain(self->state);
        uint64_t removed = 0;
        for (auto& key : keys)
          removed += self->state.store->remove(key) ? 1 : 0;
        self->state.stats.removes += removed;
        return removed;
      },
      [=](delete_atom, match_atom, const std::string& pattern) -> caf::result<uint64_t> {
        std::string reason;
        auto matcher = glob::compile(pattern, &reason);
        if (!matcher)
          return make_error(errc::invalid_pattern, std::move(reason));
        drain(self->state);
        auto removed = static_cast<uint64_t>(self->state.store->remove_if(
            [&](std::string_view key) { return matcher->matches(key); }));
        self->state.stats.removes += removed;
        return removed;
      },
      [=](clear_atom) {
        drain(self->state);
        auto removed = static_cast<uint64_t>(self->state.store->clear());
        self->state.stats.removes += removed;
        return removed;
      },
      [=](exists_atom, const std::string& key) {
        return self->state.store->contains(key, now_ms(self));
      },
      [=](stats_atom) {
        auto& st = self->state;
        drain(st);
        auto res = st.stats;
        auto& counters = st.store->counters();
        // Hits the view served count once, here, whether or not their record was dropped.
        res.hits = counters.hits + (st.view ? st.view->hits() : 0);
        res.misses = counters.misses;
        res.evictions = counters.evictions;
        res.expirations = counters.expirations;
        res.idle_expirations = counters.idle_expirations;
        res.size = st.store->size();
        res.weight = st.store->weight();
        return res;
      },
      [=](health_atom) {
        // Answering at all is the probe: the store has no backend that could fail.
        auto& st = self->state;
        return tier_health{st.stats.level, "memory", true,
                           std::to_string(st.store->size()) + " entries", 0};
      },
      [=](sweep_atom) {
        // Drained first: reads the view served restart idle deadlines before they expire.
        drain(self->state);
        self->state.store->expire(now_ms(self));
        self->delayed_send(self, self->state.cfg.sweep_interval, sweep_atom::value);
      },
      [=](drain_atom) { drain(self->state); },
  };
}

} // namespace

} // namespace mtcache::detail

namespace mtcache {

batch_tier_actor spawn_memory_tier(caf::actor_system& sys, const memory_tier_config& cfg,
                                   uint32_t level) {
  return sys.spawn(detail::memory_tier, cfg, level, std::shared_ptr<detail::read_view>{});
}

batch_tier_actor spawn_memory_tier(caf::actor_system& sys, const memory_tier_config& cfg,
                                   uint32_t level, std::shared_ptr<detail::read_view> view) {
  return sys.spawn(detail::memory_tier, cfg, level, std::move(view));
}

} // namespace mtcache
