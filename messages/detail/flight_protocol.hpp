#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mtcache/messages/config.hpp"
#include "mtcache/messages/detail/lease_protocol.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

class read_view;

// Internal vocabulary between the coordinator and its flights. Users never see these
// handles: the coordinator's public face is `cache_actor`.

/// A tier as the coordinator and its flights hold it: the handle and where it sits.
struct chain_tier {
  tier_actor handle;
  tier_config cfg;
  /// Answers every request within the cache's tier_timeout by itself (the built-in tiers
  /// do). The coordinator then holds its writes there to tier_timeout with a deadline sweep
  /// of its own rather than a CAF request timer per request, which wakes CAF's clock thread
  /// once to set and once to cancel.
  bool answers_in_time = false;
  /// The same tier if it takes batches (the built-in tiers do); invalid otherwise.
  batch_tier_actor batch;
  /// As first tier, reads go to it in batches too. Worth it for the Redis tier, whose broker
  /// runs on CAF's one multiplexer thread with all network I/O; a memory tier answers a
  /// passed-on read as cheaply as a batch entry, one hop sooner.
  bool batch_reads = false;
  /// The tier's read view, if it has one (a memory tier as first tier): its hits never reach
  /// the coordinator, which adds them to its counters.
  std::shared_ptr<const read_view> view;
  /// The same tier if it holds load leases (a Redis tier with cache_options::load_lease on).
  lease_tier_actor lease{};
};

using tier_chain = std::vector<chain_tier>;

/// The loader of a get_or_compute, of any kind: exactly one is valid. A bulk loader serves a
/// single key too: a bulk call joined a flight that then loads by itself.
struct loader_ref {
  loader_actor plain;
  ttl_loader_actor timed;
  bulk_loader_actor bulk;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, loader_ref& x) {
  return f(caf::meta::type_name("mtcache::loader_ref"), x.plain, x.timed, x.bulk);
}

/// One short-lived actor per key being looked up or loaded. Joining it makes the caller a
/// waiter; the flight answers every waiter once the outcome is known.
using flight_actor = caf::typed_actor<
    // A plain get that missed the first tier.
    caf::replies_to<join_atom>::with<lookup>,
    // A get_or_compute: waits for the value, loading it with `loader` if no tier has it.
    caf::replies_to<join_atom, compute_options, loader_ref>::with<lookup>,
    // A soft-timeout timer of the load with the given sequence number fired.
    caf::reacts_to<caf::timeout_atom, uint64_t>,
    // Time to look again whether the holder of the key's load lease wrote the value (load
    // sequence number).
    caf::reacts_to<lease_atom, uint64_t>,
    // The outcome of a bulk pass (coordinator_bulk.cpp) for a flight it started, which waits
    // for it; the pass becomes a waiter. Found in tier i below the first:
    caf::replies_to<fill_atom, uint32_t, lookup>::with<lookup>,
    // In no tier, and the pass loads nothing (a plain get of many keys):
    caf::replies_to<miss_atom>::with<lookup>,
    // What the bulk loader answered for the key:
    caf::replies_to<load_atom, bulk_entry>::with<lookup>>;

/// How a flight answered its waiters, so the coordinator's counters stay exact.
struct flight_report {
  /// Waiters answered with a value found in tier i.
  std::vector<uint64_t> tier_hits;
  /// Waiters answered "not found", or with a value the loader produced.
  uint64_t misses = 0;
  /// Waiters answered with an error.
  uint64_t failed = 0;
  uint64_t loads = 0;
  uint64_t load_errors = 0;
  uint64_t load_timeouts = 0;
  uint64_t tier_errors = 0;
  uint64_t stale_served = 0;
  /// Tier writes that promoted a found value.
  uint64_t promotions = 0;
  /// 1 if the coordinator refused the flight's writes because the key changed meanwhile.
  uint64_t superseded_fills = 0;
  /// How long the load took (with `loads`; its outcome is in `load_errors`/`load_timeouts`).
  caf::timespan load_duration{0};
  uint64_t load_soft_timeouts = 0;
  /// 1 if the flight served an expired value by fail-safe.
  uint64_t fail_safe_activations = 0;
  /// As `cache_stats::promotions_by_pair`; empty without promotions.
  std::vector<uint64_t> promotions_by_pair;
  /// 1 if this flight was an eager refresh and its load failed or timed out.
  uint64_t eager_refresh_failures = 0;
  /// The TTL (ms, -1 for none) of a value this flight loaded, 0 without a load, and whether
  /// the loader chose it: eager refresh measures its share against that TTL.
  int64_t loaded_ttl_ms = 0;
  bool ttl_chosen = false;
  /// 1 if the flight handed its load to the key's owner node; `fleet_fallbacks` 1 if it then
  /// loaded here all the same, the owner being down, cut off or too slow.
  uint64_t fleet_forwarded = 0;
  uint64_t fleet_fallbacks = 0;
  /// Values the flight read that a tag removal hid.
  uint64_t tags_hidden = 0;
  /// Load leases, 1 each if the flight: took the key's lease and loaded; was answered by
  /// the value another node's lease holder loaded; loaded without the lease all the same
  /// (Redis failed, or the wait outlasted the load's timeout).
  uint64_t lease_acquired = 0;
  uint64_t lease_waited = 0;
  uint64_t lease_fallbacks = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, flight_report& x) {
  return f(caf::meta::type_name("mtcache::flight_report"), x.tier_hits, x.misses, x.failed, x.loads,
           x.load_errors, x.load_timeouts, x.tier_errors, x.stale_served, x.promotions,
           x.superseded_fills, x.load_duration, x.load_soft_timeouts, x.fail_safe_activations,
           x.promotions_by_pair, x.eager_refresh_failures, x.loaded_ttl_ms, x.ttl_chosen,
           x.fleet_forwarded, x.fleet_fallbacks, x.tags_hidden, x.lease_acquired, x.lease_waited,
           x.lease_fallbacks);
}

/// The coordinator as its flights and tiers see it.
using coordinator_actor = cache_actor::extend_with<miss_route>::extend<
    // Write a flight's value into tier i unless the key changed since the flight started:
    // the coordinator passes the write on to the tier (in order with its own writes there) and
    // the tier answers the flight; errc::superseded otherwise.
    caf::replies_to<fill_atom, std::string, uint64_t, uint32_t, bytes,
                    caf::timespan>::with<ok_atom>,
    // A flight is finished; the coordinator forgets it and answers when the flight may exit.
    caf::replies_to<done_atom, std::string, uint64_t, flight_report>::with<ok_atom>,
    // A get_or_compute a finishing flight could not serve, routed back without recounting.
    caf::replies_to<compute_atom, std::string, compute_options, loader_ref,
                    retry_atom>::with<lookup>,
    // Waiters a flight answered after it reported done.
    caf::reacts_to<done_atom, flight_report>,
    // From the bridge: a change another node made, for this node's local tiers.
    caf::replies_to<apply_atom, invalidation>::with<ok_atom>,
    // From the bridge: keys Redis tracking invalidated (given without the key prefix), for
    // the local tiers; answers how many raced a read under way.
    caf::replies_to<track_atom, std::vector<std::string>>::with<uint64_t>,
    // From the bridge: contact was lost and is back; run the recovery policy. Answers how many
    // entries were dropped.
    caf::replies_to<recover_atom>::with<uint64_t>,
    // The deadline sweep of requests to tiers that answer in time.
    caf::reacts_to<caf::tick_atom>,
    // Re-applies held changes to shared tiers that failed them (coordinator_repair.cpp).
    caf::reacts_to<repair_atom>,
    // Sends the reads and writes queued for batching.
    caf::reacts_to<caf::flush_atom>,
    // From the bridge: the peers this node is linked with now; flights route loads over them.
    caf::reacts_to<fleet_atom, std::vector<peer_inbox_actor>>,
    // From the peer inbox: a get_or_compute another node handed to this one as the key's
    // owner. Served here, never handed on.
    caf::replies_to<compute_atom, std::string, compute_options, loader_ref,
                    fleet_atom>::with<lookup>>;

} // namespace mtcache::detail
