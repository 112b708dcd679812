// The coordinator: the actor users talk to.
//
// What it owns. The tier chain (handles and configs, shared read-only with the flights), the
// flight table (at most one flight per key that missed the first tier), the outbox (what goes
// to the tiers, with the sets and reads queued for batching), the deadline sweep (deadlines
// of its requests to tiers that answer in time), the exact counters, and the bridge to other
// nodes when invalidation is configured. The handlers are split by idea: reads
// (coordinator_reads.cpp), reads of many keys (coordinator_bulk.cpp), writes and removals
// (coordinator_writes.cpp), other nodes' changes and recovery (coordinator_remote.cpp), stats and
// health (coordinator_status.cpp); this file wires them to messages.
//
// Order. A first-tier hit is two hops: the coordinator passes the get on to the tier, which
// answers the caller; a miss comes back and goes on to the key's flight. Every write to a
// tier leaves the coordinator, flights' fills included (passed on, so the tier answers the
// flight), so each tier receives writes in the order the coordinator received them; the
// outbox keeps that order across the batch queues: reads never pass a queued set, sets
// never pass a queued read, removals and everything else pass nothing; reads may pass reads.
// Every change marks the running flight of its key superseded, so an older loaded value
// cannot overwrite it.
//
// Why it batches. Under load the coordinator itself was the bottleneck for sets: each was a
// request with a response handler of its own, and CAF 0.17 keeps pending responses in a
// flat list that it searches and shifts on every answer (7-12% of all samples at 1 024
// outstanding). Redis-first-tier reads cost the Redis tier's broker, which runs on CAF's one
// network thread with all network I/O, a message and an answer per read. Requests that find
// more behind them in the mailbox therefore queue and go out as one message per tier; with
// at most 8 batches of a kind in flight, requests gather meanwhile, and batches average
// about 74 reads at 1 024 outstanding instead of 18 when sent whenever the mailbox ran
// empty (README, Performance: "What profiling changed").
//
// Why deadlines are swept. A CAF request timeout costs CAF's clock thread a wakeup to set
// and another to cancel; it was a quarter of the CPU samples of an L2 get under load. The
// built-in tiers answer within their own deadlines, so requests to them carry no CAF timer:
// the sweep holds each fan-out round to tier_timeout, looking every tier_timeout/4. A tier of
// one's own gets the CAF timeout.

#include "mtcache/actors/detail/coordinator.hpp"

#include <algorithm>
#include <chrono>
#include <memory>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/actors/detail/coordinator_state.hpp"
#include "mtcache/actors/detail/invalidation_bridge.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

using self_ptr = coordinator_ptr;

void init(self_ptr self, tier_chain tiers, cache_options opts, std::shared_ptr<tag_clock> tags) {
  auto& st = self->state;
  st.tags = tags ? std::move(tags) : std::make_shared<tag_clock>();
  st.stats.tier_hits.resize(tiers.size());
  st.stats.invalidated.resize(tiers.size());
  st.tiers = std::make_shared<const tier_chain>(std::move(tiers));
  st.opts = opts;
  st.rng.seed(opts.seed != 0 ? opts.seed
                             : static_cast<uint64_t>(
                                   std::chrono::steady_clock::now().time_since_epoch().count()));
  st.sweep.set_timeout(opts.tier_timeout);
  st.has_shared_tier = std::any_of(st.tiers->begin(), st.tiers->end(),
                                   [](const chain_tier& t) { return t.cfg.shared; });
  // Sets go out in batches when every tier takes them, reads when the first tier wants them.
  if (std::all_of(st.tiers->begin(), st.tiers->end(),
                  [](const chain_tier& t) { return bool{t.batch}; }))
    st.outbox.batch_writes([self](auto batch, auto done) { send_write_batch(self, batch, done); });
  if (st.tiers->front().batch_reads && st.tiers->front().batch)
    st.outbox.batch_reads([self](auto batch, auto done) { send_read_batch(self, batch, done); });
}

coordinator_actor::behavior_type coordinator(self_ptr self, tier_chain tiers, cache_options opts,
                                             std::vector<caf::actor> owned,
                                             std::optional<bridge_params> bridge,
                                             std::shared_ptr<tag_clock> tags) {
  init(self, std::move(tiers), opts, std::move(tags));
  if (bridge) {
    bridge->coordinator = caf::actor_cast<caf::actor>(self);
    self->state.bridge = spawn_invalidation_bridge(self->system(), std::move(*bridge));
    owned.push_back(caf::actor_cast<caf::actor>(self->state.bridge));
  }
  // Flights hold the coordinator, so it only ends by an exit message: pass it on to them.
  self->set_exit_handler([=](caf::exit_msg& msg) {
    auto reason = make_error(errc::shutting_down, "the cache is shutting down");
    self->state.outbox.fail_queued(reason);
    fail_bulk_passes(self->state, reason);
    self->state.flights.for_each(
        [&](const flight_actor& flight) { self->send_exit(flight, msg.reason); });
    self->quit(msg.reason);
  });
  self->attach_functor([owned](const caf::error& reason) {
    for (auto& a : owned)
      caf::anon_send_exit(a, reason ? caf::exit_reason::user_shutdown : caf::exit_reason::normal);
  });
  auto on_write = opts.broadcast_on_write;
  return {
      [=](get_atom, const std::string& key) { return get_value(self, key); },
      [=](miss_atom, const std::string& key, bool failed, const caf::message& context) {
        return after_miss(self, key, failed, context);
      },
      [=](compute_atom, const std::string& key, compute_options& opts, loader_actor& loader) {
        return get_or_compute(self, key, std::move(opts), loader_ref{std::move(loader), {}, {}},
                              false);
      },
      [=](compute_atom, const std::string& key, compute_options& opts, ttl_loader_actor& loader) {
        return get_or_compute(self, key, std::move(opts), loader_ref{{}, std::move(loader), {}},
                              false);
      },
      [=](get_atom, const std::vector<std::string>& keys) { return get_many(self, keys); },
      [=](compute_atom, const std::vector<std::string>& keys, compute_options& opts,
          bulk_loader_actor& loader) {
        return get_or_compute_many(self, keys, std::move(opts), std::move(loader));
      },
      [=](compute_atom, const std::string& key, compute_options& opts, loader_ref& loader,
          retry_atom) {
        return get_or_compute(self, key, std::move(opts), std::move(loader), true);
      },
      [=](put_atom, const std::string& key, bytes& value, const strategy& ttl) {
        return set_value(self, key, untagged(std::move(value)), ttl.ttl(), on_write);
      },
      [=](put_atom, const std::string& key, bytes& value, const strategy& ttl, broadcast_atom) {
        return set_value(self, key, untagged(std::move(value)), ttl.ttl(), true);
      },
      [=](update_atom, const std::string& key, bytes& value, caf::timespan ttl) {
        return set_value(self, key, untagged(std::move(value)), ttl, true);
      },
      [=](put_atom, const std::string& key, const bytes& value, const strategy& ttl,
          const std::vector<std::string>& tags) {
        return set_tagged(self, key, value, ttl.ttl(), tags);
      },
      [=](invalidate_atom, tag_atom, const std::string& tag) { return remove_tag(self, tag); },
      [=](clear_atom) { return clear_all(self); },
      [=](delete_atom, const std::string& key) { return remove_key(self, key, on_write); },
      [=](delete_atom, match_atom, const std::string& pattern) {
        return remove_pattern(self, pattern, on_write);
      },
      [=](invalidate_atom, const std::string& key) { return remove_key(self, key, true); },
      [=](invalidate_atom, std::vector<std::string>& keys) {
        return remove_keys(self, std::move(keys), true);
      },
      [=](invalidate_atom, match_atom, const std::string& pattern) {
        return remove_pattern(self, pattern, true);
      },
      [=](corrupt_atom, const std::string& key) { return drop_corrupt(self, key); },
      [=](apply_atom, invalidation& change) { return apply_remote(self, std::move(change)); },
      [=](recover_atom) { return recover(self); },
      [=](track_atom, std::vector<std::string>& keys) {
        return apply_tracked(self, std::move(keys));
      },
      [=](stats_atom) { return current_stats(self->state); },
      [=](stats_atom, invalidate_atom) -> caf::result<bridge_stats> {
        auto& bridge = self->state.bridge;
        if (!bridge)
          return make_error(errc::not_configured, "this cache has no invalidation configured");
        return self->delegate(bridge, stats_atom::value);
      },
      [=](tierstats_atom) { return collect_tier_stats(self); },
      [=](health_atom) { return collect_health(self); },
      [=](fill_atom, const std::string& key, uint64_t id, uint32_t tier, bytes& value,
          caf::timespan ttl) { return fill(self, key, id, tier, std::move(value), ttl); },
      [=](done_atom, const std::string& key, uint64_t id, const flight_report& report) {
        auto& st = self->state;
        st.flights.forget(key, id);
        merge(st.stats, report);
        remember_ttl(st, key, report);
        return ok_atom::value;
      },
      [=](done_atom, const flight_report& late) { merge(self->state.stats, late); },
      [=](caf::tick_atom) { self->state.sweep.tick(self); },
      [=](repair_atom) { run_repairs(self); },
      [=](caf::flush_atom) { self->state.outbox.flush(); },
      [=](fleet_atom, const std::vector<peer_inbox_actor>& peers) { set_fleet(self, peers); },
      [=](compute_atom, const std::string& key, compute_options& opts, loader_ref& loader,
          fleet_atom) { return serve_for_peer(self, key, std::move(opts), std::move(loader)); },
  };
}

} // namespace

cache_actor spawn_coordinator(caf::actor_system& sys, tier_chain tiers, cache_options opts,
                              std::vector<caf::actor> owned, std::optional<bridge_params> bridge,
                              std::shared_ptr<tag_clock> tags) {
  return sys.spawn(coordinator, std::move(tiers), std::move(opts), std::move(owned),
                   std::move(bridge), std::move(tags));
}

} // namespace mtcache::detail
