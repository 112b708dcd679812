#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace mtcache {

/// Upper bounds (ns) of the buckets every latency histogram of the cache shares: fixed, so
/// that recording one observation is a short search and histograms of all caches and nodes
/// add up. 25 us to 10 s: a Redis round trip on loopback is about 85 us, a load a database
/// call of milliseconds to seconds.
inline constexpr std::array<int64_t, 18> latency_bounds_ns = {
    25'000,      50'000,      100'000,       250'000,       500'000,       1'000'000,
    2'500'000,   5'000'000,   10'000'000,    25'000'000,    50'000'000,    100'000'000,
    250'000'000, 500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};

/// Durations with the buckets of `latency_bounds_ns`, kept by the actor that did the work.
struct latency_histogram {
  /// Observations per bucket (not cumulative): `counts[i]` for those within
  /// `latency_bounds_ns[i]` and above the bound before it, the last entry for those above
  /// every bound. Empty while nothing was observed.
  std::vector<uint64_t> counts;
  /// Sum of every observation in ns.
  uint64_t sum_ns = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, latency_histogram& x) {
  return f(caf::meta::type_name("mtcache::latency_histogram"), x.counts, x.sum_ns);
}

/// Requests of one kind that a tier sent to its backend (e.g. Redis): how long each took
/// from being sent to its reply, and how many failed (error reply, timeout, connection down).
struct backend_op_stats {
  /// "get", "set", "get_batch", "set_batch", "remove", "scan" or "other".
  std::string op;
  uint64_t errors = 0;
  latency_histogram latency;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, backend_op_stats& x) {
  return f(caf::meta::type_name("mtcache::backend_op_stats"), x.op, x.errors, x.latency);
}

/// One server behind a tier that talks to several (the nodes of a Redis Cluster).
struct node_stats {
  /// host:port
  std::string address;
  /// "primary" (serves slots) or "node" (a seed or former primary serving none).
  std::string role;
  /// The slots it serves, as ranges: "0-5460,10923".
  std::string slots;
  bool connected = false;
  uint64_t reconnects = 0;
  uint64_t timeouts = 0;
  /// Redirects this node answered with: MOVED (the slot lives elsewhere now) and ASK (one
  /// request goes elsewhere during a migration).
  uint64_t moved = 0;
  uint64_t asked = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_stats& x) {
  return f(caf::meta::type_name("mtcache::node_stats"), x.address, x.role, x.slots, x.connected,
           x.reconnects, x.timeouts, x.moved, x.asked);
}

/// How a tier over a Redis Cluster or a Sentinel set followed its topology.
struct topology_stats {
  /// MOVED and ASK redirects followed.
  uint64_t moved = 0;
  uint64_t asked = 0;
  /// Requests sent again after TRYAGAIN or CLUSTERDOWN.
  uint64_t retries = 0;
  /// Slot maps fetched (CLUSTER SLOTS).
  uint64_t refreshes = 0;
  /// Cluster: primaries whose slots went to another node while they were unreachable.
  /// Sentinel: reconnects that found another primary than before.
  uint64_t failovers = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, topology_stats& x) {
  return f(caf::meta::type_name("mtcache::topology_stats"), x.moved, x.asked, x.retries,
           x.refreshes, x.failovers);
}

/// Counters of one tier, as the tier itself reports them.
struct tier_stats {
  uint32_t level = 0;
  /// What the tier is: "memory", "redis" or a user tier's own name.
  std::string kind;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t writes = 0;
  uint64_t removes = 0;
  /// Entries dropped to make room (size or weight bound).
  uint64_t evictions = 0;
  /// Entries whose time ran out, and of those, the ones whose idle time ran out first.
  uint64_t expirations = 0;
  uint64_t errors = 0;
  uint64_t timeouts = 0;
  uint64_t reconnects = 0;
  /// Entries held (for Redis: not tracked, 0).
  uint64_t size = 0;
  /// Total weight (key + value bytes) held, if the tier tracks it.
  uint64_t weight = 0;
  bool connected = true;
  uint64_t idle_expirations = 0;
  /// Requests to the backend by kind (a tier with a backend: Redis); empty otherwise.
  std::vector<backend_op_stats> ops;
  /// A tier over several servers: one entry each (a Redis Cluster's nodes); else empty.
  std::vector<node_stats> nodes;
  topology_stats topology;
  /// Redis Sentinel: the primary connected to last ("host:port"); empty for other tiers.
  std::string primary;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tier_stats& x) {
  return f(caf::meta::type_name("mtcache::tier_stats"), x.level, x.kind, x.hits, x.misses, x.writes,
           x.removes, x.evictions, x.expirations, x.errors, x.timeouts, x.reconnects, x.size,
           x.weight, x.connected, x.idle_expirations, x.ops, x.nodes, x.topology, x.primary);
}

/// Exact counters of the coordinator: every request is counted once, where it ends.
struct cache_stats {
  /// get and get_or_compute requests.
  uint64_t requests = 0;
  /// Hits per tier, in tier order (index 0 is the first tier).
  std::vector<uint64_t> tier_hits;
  /// Requests that found the key in no tier.
  uint64_t misses = 0;
  uint64_t promotions = 0;
  uint64_t sets = 0;
  uint64_t removes = 0;
  /// Tier requests that failed or timed out (a failed read counts as a miss too).
  uint64_t tier_errors = 0;
  /// Requests rejected for bad input (key, value size, pattern).
  uint64_t rejected = 0;
  /// Requests answered with an error (a failed or timed-out load, shutdown).
  uint64_t failed = 0;
  /// Loader calls, and how they ended.
  uint64_t loads = 0;
  uint64_t load_errors = 0;
  uint64_t load_timeouts = 0;
  /// Flights alive right now (one per key being looked up or loaded).
  uint64_t in_flight = 0;
  /// Typed reads whose bytes did not decode (treated as misses).
  uint64_t decode_failed = 0;
  /// Fills dropped because the key changed while its flight was loading.
  uint64_t superseded_fills = 0;
  /// Expired values served by fail-safe.
  uint64_t stale_served = 0;
  /// Writes and removals that failed on a shared tier, kept to re-apply once it is back:
  /// waiting now; re-applied; dropped because a newer change (ours or another node's)
  /// made them moot; keys removed again because another node's change raced a repair;
  /// given up past the bound (their keys may differ between nodes until the TTL).
  uint64_t repairs_pending = 0;
  uint64_t repairs = 0;
  uint64_t repairs_superseded = 0;
  uint64_t repairs_compensated = 0;
  uint64_t repairs_dropped = 0;
  /// Keys Redis tracking invalidated while a read of them from a lower tier was under way:
  /// the value read went to the callers but not into the local tiers.
  uint64_t tracking_races = 0;
  /// Keys dropped from each local tier (by chain index) because they changed elsewhere:
  /// another node's change, a write Redis tracking reported, or a recovery's flush.
  std::vector<uint64_t> invalidated;
  /// Flights started (one per key that missed the first tier while none ran for it), and
  /// requests that joined a running one instead.
  uint64_t flights_started = 0;
  uint64_t flight_joins = 0;
  /// Loads still running at their soft timeout (fail-safe then serves the expired value if
  /// the first tier kept one, and the load goes on).
  uint64_t load_soft_timeouts = 0;
  /// Flights that served an expired value by fail-safe (after a failed load or at the soft
  /// timeout); `stale_served` counts the requests they answered with it.
  uint64_t fail_safe_activations = 0;
  /// Eager refreshes started (a get_or_compute hit past its `eager_refresh` share; at most
  /// one runs per key), and those whose load failed or timed out (the value stayed).
  uint64_t eager_refreshes = 0;
  uint64_t eager_refresh_failures = 0;
  /// Fleet-wide flights: loads this node handed to the key's owner node, those it ran itself
  /// all the same (the owner down, cut off or too slow), and get_or_computes other nodes
  /// handed to this one as the owner.
  uint64_t fleet_forwarded = 0;
  uint64_t fleet_fallbacks = 0;
  uint64_t fleet_served = 0;
  /// Peers fleet-wide flights route loads over now (0: every load runs here).
  uint32_t fleet_peers = 0;
  /// Tags removed (by this node or, through invalidation, another), values a tag removal hid
  /// when the coordinator or a flight read them (the memory tier drops its own without
  /// counting here), and whole-cache clears applied.
  uint64_t tag_removals = 0;
  uint64_t tags_hidden = 0;
  uint64_t clears = 0;
  /// Load leases (cache_options::load_lease): loads this node ran holding the key's lease,
  /// flights answered with the value another node's lease holder loaded, and loads run
  /// without the lease all the same (Redis failed, or the wait outlasted the load's timeout).
  uint64_t lease_acquired = 0;
  uint64_t lease_waited = 0;
  uint64_t lease_fallbacks = 0;
  /// Promotions by tier pair: `promotions_by_pair[from * n + into]` for n tiers, tier
  /// indices in chain order (0 is the first tier). Empty until the first promotion.
  std::vector<uint64_t> promotions_by_pair;
  /// How long loads took, by how they ended: a value, an error, the hard timeout.
  latency_histogram load_success;
  latency_histogram load_failure;
  latency_histogram load_timeout;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cache_stats& x) {
  return f(caf::meta::type_name("mtcache::cache_stats"), x.requests, x.tier_hits, x.misses,
           x.promotions, x.sets, x.removes, x.tier_errors, x.rejected, x.failed, x.loads,
           x.load_errors, x.load_timeouts, x.in_flight, x.decode_failed, x.superseded_fills,
           x.stale_served, x.repairs_pending, x.repairs, x.repairs_superseded,
           x.repairs_compensated, x.repairs_dropped, x.tracking_races, x.invalidated,
           x.flights_started, x.flight_joins, x.load_soft_timeouts, x.fail_safe_activations,
           x.promotions_by_pair, x.load_success, x.load_failure, x.load_timeout, x.eager_refreshes,
           x.eager_refresh_failures, x.fleet_forwarded, x.fleet_fallbacks, x.fleet_served,
           x.fleet_peers, x.tag_removals, x.tags_hidden, x.clears, x.lease_acquired, x.lease_waited,
           x.lease_fallbacks);
}

/// Counters of a node's invalidation bridge.
struct bridge_stats {
  /// This node's origin id, carried by every message it sends.
  std::string node_id;
  /// Local changes sent (each counted once, whatever paths it took).
  uint64_t messages_sent = 0;
  uint64_t published_redis = 0;
  uint64_t sent_to_peers = 0;
  /// Messages from other nodes applied here, in all and by type (audit-stream replays are
  /// counted in `replayed` instead, but by type here too).
  uint64_t received = 0;
  uint64_t received_removes = 0;
  uint64_t received_updates = 0;
  uint64_t received_patterns = 0;
  uint64_t received_bulk = 0;
  uint64_t received_tags = 0;
  uint64_t received_clears = 0;
  /// This node's own messages coming back (ignored).
  uint64_t own_ignored = 0;
  /// Messages that arrived on a second path (ignored).
  uint64_t duplicates = 0;
  /// Malformed, unknown or oversized messages (dropped).
  uint64_t processing_errors = 0;
  /// Unsigned or wrongly signed messages while a secret is set (dropped).
  uint64_t rejected_signature = 0;
  /// Pattern invalidations outside the allowed prefixes (dropped).
  uint64_t rejected_patterns = 0;
  /// Changes never published to Redis: held while the publishing connection was down, then
  /// given up because more than `max_held_keys` piled up.
  uint64_t publish_errors = 0;
  /// Keys and patterns of changes waiting to be published until Redis is back.
  uint64_t publish_held = 0;
  /// Held changes replaced by a newer change of the same key before they went out.
  uint64_t held_compacted = 0;
  /// Messages that published held changes once Redis was back (each stands for many).
  uint64_t backlog_messages = 0;
  /// Updates sent as removals because their value exceeded `max_update_value_bytes`.
  uint64_t large_updates_removed = 0;
  /// Received messages too large to apply whole, applied as removals of their key.
  uint64_t oversized_removed = 0;
  /// Gaps that opened in another node's changes, and changes missing right now.
  uint64_t gaps = 0;
  uint64_t missing = 0;
  /// Replays of the audit stream, and the entries they applied.
  uint64_t replays = 0;
  uint64_t replayed = 0;
  /// The audit stream id up to which this node has applied every change; empty until it
  /// knows one (replay needs it).
  std::string replay_position;
  /// Times the local tiers were dropped, in all and why: contact was back and nothing could
  /// be replayed (policy clear, no audit stream, no position in it yet); a gap the audit
  /// stream did not fill; the stream no longer held what this node missed.
  uint64_t flushes = 0;
  uint64_t flushes_reconnect = 0;
  uint64_t flushes_gap = 0;
  uint64_t flushes_trimmed = 0;
  /// Redis tracking (`invalidation_config::tracking`): keys it invalidated; flushes of the
  /// database it reported; times it broke (the subscriber or a data connection lost
  /// Redis: changes of that time went unreported, so the node drops its local tiers once
  /// tracking is back, counted in `flushes_tracking`); refusals (no permission).
  uint64_t tracking_invalidations = 0;
  uint64_t tracking_db_flushes = 0;
  uint64_t tracking_broken = 0;
  uint64_t tracking_errors = 0;
  uint64_t flushes_tracking = 0;
  /// Every tracked Redis connection tracks right now.
  bool tracking = false;
  /// Why tracking is off, if Redis refused it (empty once it is on).
  std::string tracking_error;
  uint64_t audit_errors = 0;
  /// Times the Redis subscription was re-established after a loss.
  uint64_t redis_reconnects = 0;
  /// Times a peer link came back after a loss.
  uint64_t peer_reconnects = 0;
  /// Recovery runs (after a resubscribe or a peer reconnect; a gap is handled on its own, see
  /// `replays` and `flushes_gap`), and the last one (unix ms).
  uint64_t recoveries = 0;
  int64_t last_recovery_ms = 0;
  bool redis_subscribed = false;
  uint32_t peers_connected = 0;
  /// The port this node accepts peer links on; 0 if it does not listen.
  uint16_t listen_port = 0;
  /// Of `received`: over Redis Pub/Sub, and over CAF peer links.
  uint64_t received_redis = 0;
  uint64_t received_peers = 0;
  /// Of `recoveries`: after the Redis subscription came back, after a peer link did.
  uint64_t recoveries_redis = 0;
  uint64_t recoveries_peer = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bridge_stats& x) {
  return f(caf::meta::type_name("mtcache::bridge_stats"), x.node_id, x.messages_sent,
           x.published_redis, x.sent_to_peers, x.received, x.received_removes, x.received_updates,
           x.received_patterns, x.received_bulk, x.received_tags, x.received_clears, x.own_ignored,
           x.duplicates, x.processing_errors, x.rejected_signature, x.rejected_patterns,
           x.publish_errors, x.publish_held, x.held_compacted, x.backlog_messages,
           x.large_updates_removed, x.oversized_removed, x.gaps, x.missing, x.replays, x.replayed,
           x.replay_position, x.flushes, x.flushes_reconnect, x.flushes_gap, x.flushes_trimmed,
           x.tracking_invalidations, x.tracking_db_flushes, x.tracking_broken, x.tracking_errors,
           x.flushes_tracking, x.tracking, x.tracking_error, x.audit_errors, x.redis_reconnects,
           x.peer_reconnects, x.recoveries, x.last_recovery_ms, x.redis_subscribed,
           x.peers_connected, x.listen_port, x.received_redis, x.received_peers, x.recoveries_redis,
           x.recoveries_peer);
}

/// Health of one tier: a probe (memory tier) or a PING (Redis) and how long it took.
struct tier_health {
  uint32_t level = 0;
  std::string kind;
  bool ok = false;
  std::string detail;
  int64_t latency_us = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tier_health& x) {
  return f(caf::meta::type_name("mtcache::tier_health"), x.level, x.kind, x.ok, x.detail,
           x.latency_us);
}

/// `healthy`: every tier answered. `degraded`: the first tier works but a lower one does not
/// (the cache still serves). `down`: the first tier does not answer.
enum class health_status : uint8_t { healthy, degraded, down };

struct health_report {
  health_status status = health_status::down;
  std::vector<tier_health> tiers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, health_report& x) {
  return f(caf::meta::type_name("mtcache::health_report"), x.status, x.tiers);
}

} // namespace mtcache
