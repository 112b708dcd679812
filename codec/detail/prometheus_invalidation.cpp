// The families of the invalidation bridge: messages sent and received, gaps, recoveries,
// tracking, subscription and peers.

#include "mtcache/codec/detail/prometheus_exposition.hpp"

namespace mtcache::detail::prometheus {

namespace {

void bridge_family(exposition& x, const char* name, const char* type, const char* help,
                   const std::function<void(const cache_snapshot&, const bridge_stats&)>& body) {
  if (!x.any([](const cache_snapshot& c) { return c.has_bridge; }))
    return; // a family without samples only adds noise
  x.family(name, type, help, [&](const cache_snapshot& c) {
    if (c.has_bridge)
      body(c, c.bridge);
  });
}

} // namespace

void render_invalidation(exposition& x) {
  bridge_family(x, "mtcache_invalidation_messages_sent_total", "counter",
                "Changes this node sent to other nodes (each once, whatever paths it took).",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_invalidation_messages_sent_total", with_cache(c),
                           b.messages_sent);
                });
  bridge_family(x, "mtcache_invalidations_sent_total", "counter",
                "Change messages sent, by transport (Redis Pub/Sub, CAF peer links).",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_invalidations_sent_total",
                           {{"cache", c.name}, {"transport", "redis"}}, b.published_redis);
                  x.sample("mtcache_invalidations_sent_total",
                           {{"cache", c.name}, {"transport", "peer"}}, b.sent_to_peers);
                });
  bridge_family(
      x, "mtcache_invalidations_received_total", "counter",
      "Changes of other nodes applied here, by transport (replay: read back from the audit "
      "stream after a gap).",
      [&](const cache_snapshot& c, const bridge_stats& b) {
        x.sample("mtcache_invalidations_received_total",
                 {{"cache", c.name}, {"transport", "redis"}, {"result", "applied"}},
                 b.received_redis);
        x.sample("mtcache_invalidations_received_total",
                 {{"cache", c.name}, {"transport", "peer"}, {"result", "applied"}},
                 b.received_peers);
        x.sample("mtcache_invalidations_received_total",
                 {{"cache", c.name}, {"transport", "replay"}, {"result", "applied"}}, b.replayed);
      });
  bridge_family(x, "mtcache_invalidations_received_by_type_total", "counter",
                "Changes of other nodes applied here, by type.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  const std::pair<const char*, uint64_t> types[] = {
                      {"remove", b.received_removes},   {"update", b.received_updates},
                      {"pattern", b.received_patterns}, {"bulk", b.received_bulk},
                      {"tag", b.received_tags},         {"clear", b.received_clears}};
                  for (auto& [type, n] : types)
                    x.sample("mtcache_invalidations_received_by_type_total",
                             {{"cache", c.name}, {"type", type}}, n);
                });
  bridge_family(x, "mtcache_invalidations_dropped_total", "counter",
                "Received messages not applied, by reason.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  const std::pair<const char*, uint64_t> reasons[] = {
                      {"own", b.own_ignored},
                      {"duplicate", b.duplicates},
                      {"malformed", b.processing_errors},
                      {"signature", b.rejected_signature},
                      {"pattern_not_allowed", b.rejected_patterns}};
                  for (auto& [reason, n] : reasons)
                    x.sample("mtcache_invalidations_dropped_total",
                             {{"cache", c.name}, {"reason", reason}}, n);
                });
  bridge_family(x, "mtcache_invalidation_publish_errors_total", "counter",
                "Changes never published to Redis (held while it was down, then given up).",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_invalidation_publish_errors_total", with_cache(c),
                           b.publish_errors);
                });
  bridge_family(x, "mtcache_invalidation_publish_held", "gauge",
                "Keys and patterns of changes waiting for Redis to come back.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_invalidation_publish_held", with_cache(c), b.publish_held);
                });
  bridge_family(x, "mtcache_invalidation_gaps_total", "counter",
                "Gaps seen in other nodes' sequence of changes.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_invalidation_gaps_total", with_cache(c), b.gaps);
                });
  bridge_family(x, "mtcache_invalidation_missing", "gauge",
                "Changes of other nodes known to be missing right now.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_invalidation_missing", with_cache(c), b.missing);
                });
  bridge_family(x, "mtcache_recoveries_total", "counter",
                "Recovery runs (replay of the audit stream or a flush of the local tiers, by "
                "the recovery policy), by what came back: the Redis subscription, a peer link.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_recoveries_total", {{"cache", c.name}, {"reason", "redis"}},
                           b.recoveries_redis);
                  x.sample("mtcache_recoveries_total", {{"cache", c.name}, {"reason", "peer"}},
                           b.recoveries_peer);
                });
  bridge_family(x, "mtcache_replays_total", "counter",
                "Replays of the audit stream started by a recovery.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_replays_total", with_cache(c), b.replays);
                });
  bridge_family(x, "mtcache_local_flushes_total", "counter",
                "Times the local tiers were dropped by a recovery, by reason: contact back with "
                "nothing to replay, a gap the audit stream did not fill, the stream trimmed "
                "past what this node missed.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_local_flushes_total",
                           {{"cache", c.name}, {"reason", "reconnect"}}, b.flushes_reconnect);
                  x.sample("mtcache_local_flushes_total", {{"cache", c.name}, {"reason", "gap"}},
                           b.flushes_gap);
                  x.sample("mtcache_local_flushes_total",
                           {{"cache", c.name}, {"reason", "trimmed"}}, b.flushes_trimmed);
                  x.sample("mtcache_local_flushes_total",
                           {{"cache", c.name}, {"reason", "tracking"}}, b.flushes_tracking);
                });
  bridge_family(x, "mtcache_tracking_invalidations_total", "counter",
                "Keys Redis tracking reported changed by other clients (invalidation.tracking).",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_tracking_invalidations_total", with_cache(c),
                           b.tracking_invalidations);
                });
  bridge_family(x, "mtcache_tracking_events_total", "counter",
                "Redis tracking events: database flushes reported, times tracking broke (a "
                "lost connection), refusals by Redis.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_tracking_events_total",
                           {{"cache", c.name}, {"event", "db_flush"}}, b.tracking_db_flushes);
                  x.sample("mtcache_tracking_events_total",
                           {{"cache", c.name}, {"event", "broken"}}, b.tracking_broken);
                  x.sample("mtcache_tracking_events_total", {{"cache", c.name}, {"event", "error"}},
                           b.tracking_errors);
                });
  bridge_family(x, "mtcache_tracking_on", "gauge",
                "1 while every tracked Redis connection tracks its keys.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_tracking_on", with_cache(c), uint64_t{b.tracking ? 1u : 0u});
                });
  bridge_family(x, "mtcache_invalidation_reconnects_total", "counter",
                "Times the Redis subscription or a peer link came back after a loss.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_invalidation_reconnects_total",
                           {{"cache", c.name}, {"transport", "redis"}}, b.redis_reconnects);
                  x.sample("mtcache_invalidation_reconnects_total",
                           {{"cache", c.name}, {"transport", "peer"}}, b.peer_reconnects);
                });
  bridge_family(x, "mtcache_invalidation_audit_errors_total", "counter",
                "Failed reads or writes of the audit stream.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_invalidation_audit_errors_total", with_cache(c),
                           b.audit_errors);
                });
  bridge_family(x, "mtcache_invalidation_subscribed", "gauge",
                "1 while the Redis Pub/Sub subscription is up.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_invalidation_subscribed", with_cache(c),
                           uint64_t{b.redis_subscribed ? 1u : 0u});
                });
  bridge_family(x, "mtcache_invalidation_peers_connected", "gauge", "CAF peer links up right now.",
                [&](const cache_snapshot& c, const bridge_stats& b) {
                  x.sample("mtcache_invalidation_peers_connected", with_cache(c),
                           uint64_t{b.peers_connected});
                });
}

} // namespace mtcache::detail::prometheus
