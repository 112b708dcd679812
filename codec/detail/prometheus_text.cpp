#include "mtcache/codec/detail/prometheus_text.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <utility>

namespace mtcache::detail {

namespace {

using label_list = std::vector<std::pair<const char*, std::string>>;

void write_double(std::string& out, double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", x);
  out += buf;
}

void write_uint(std::string& out, uint64_t x) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%" PRIu64, x);
  out += buf;
}

// Writes families one at a time; `each` runs a family's body once per cache, so that all
// samples of a family stay together.
class exposition {
public:
  exposition(std::string& out, const std::vector<cache_snapshot>& caches)
      : out_(out), caches_(caches) {}

  void family(const char* name, const char* type, const char* help,
              const std::function<void(const cache_snapshot&)>& body) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
    for (auto& c : caches_)
      body(c);
  }

  template <class Pred>
  bool any(Pred pred) const {
    return std::any_of(caches_.begin(), caches_.end(), pred);
  }

  void sample(const char* name, const label_list& labels, uint64_t value) {
    head(name, labels);
    write_uint(out_, value);
    out_ += '\n';
  }

  void sample(const char* name, const label_list& labels, double value) {
    head(name, labels);
    write_double(out_, value);
    out_ += '\n';
  }

  // Cumulative buckets in seconds, +Inf, _sum and _count, as a histogram family wants.
  void histogram(const std::string& name, label_list labels, const latency_histogram& h) {
    uint64_t cumulative = 0;
    auto bucket_name = name + "_bucket";
    for (size_t i = 0; i <= latency_bounds_ns.size(); ++i) {
      if (i < h.counts.size())
        cumulative += h.counts[i];
      std::string le;
      if (i < latency_bounds_ns.size())
        write_double(le, static_cast<double>(latency_bounds_ns[i]) / 1e9);
      else
        le = "+Inf";
      labels.emplace_back("le", std::move(le));
      sample(bucket_name.c_str(), labels, cumulative);
      labels.pop_back();
    }
    sample((name + "_sum").c_str(), labels, static_cast<double>(h.sum_ns) / 1e9);
    sample((name + "_count").c_str(), labels, cumulative);
  }

private:
  void head(const char* name, const label_list& labels) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      bool first = true;
      for (auto& [key, value] : labels) {
        if (!first)
          out_ += ',';
        first = false;
        out_ += key;
        out_ += "=\"";
        write_label_value(out_, value);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
  }

  std::string& out_;
  const std::vector<cache_snapshot>& caches_;
};

label_list with_cache(const cache_snapshot& c) {
  return {{"cache", c.name}};
}

label_list tier_labels(const cache_snapshot& c, const tier_stats& t) {
  return {{"cache", c.name}, {"tier", std::to_string(t.level)}, {"backend", t.kind}};
}

// Tier levels in chain order: `cache_stats` counts by chain index, tiers report levels, and
// levels ascend along the chain.
std::vector<uint32_t> chain_levels(const cache_snapshot& c) {
  std::vector<uint32_t> levels;
  for (auto& t : c.tiers)
    levels.push_back(t.level);
  std::sort(levels.begin(), levels.end());
  return levels;
}

std::string level_of(const std::vector<uint32_t>& levels, size_t index) {
  return std::to_string(index < levels.size() ? levels[index] : static_cast<uint32_t>(index + 1));
}

// A memory tier (or one of the user's) holds entries in this process; Redis does not.
bool local(const tier_stats& t) {
  return t.kind != "redis" && t.kind != "unreachable";
}

void render_requests(exposition& x) {
  x.family(
      "mtcache_gets_total", "counter",
      "Reads (get and get_or_compute) by how they ended: a hit in a tier, a miss (a "
      "loaded value counts as a miss), an expired value served by fail-safe, an error.",
      [&](const cache_snapshot& c) {
        auto levels = chain_levels(c);
        for (size_t i = 0; i < c.cache.tier_hits.size(); ++i)
          x.sample("mtcache_gets_total",
                   {{"cache", c.name}, {"result", "hit"}, {"tier", level_of(levels, i)}},
                   c.cache.tier_hits[i]);
        x.sample("mtcache_gets_total", {{"cache", c.name}, {"result", "miss"}}, c.cache.misses);
        x.sample("mtcache_gets_total", {{"cache", c.name}, {"result", "stale"}},
                 c.cache.stale_served);
        x.sample("mtcache_gets_total", {{"cache", c.name}, {"result", "error"}}, c.cache.failed);
      });
  x.family("mtcache_puts_total", "counter", "Writes (set, update) accepted.",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_puts_total", with_cache(c), c.cache.sets);
           });
  x.family("mtcache_removals_total", "counter", "Keys removed by request (remove, invalidate).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_removals_total", with_cache(c), c.cache.removes);
           });
  x.family("mtcache_rejected_total", "counter",
           "Requests refused for bad input (key, value size, pattern).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_rejected_total", with_cache(c), c.cache.rejected);
           });
  x.family("mtcache_tier_request_errors_total", "counter",
           "Requests from the cache to a tier that failed or timed out.",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_tier_request_errors_total", with_cache(c), c.cache.tier_errors);
           });
  x.family("mtcache_decode_failures_total", "counter",
           "Typed reads whose bytes did not decode (the key is dropped).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_decode_failures_total", with_cache(c), c.cache.decode_failed);
           });
  x.family("mtcache_promotions_total", "counter",
           "Values copied from a lower tier into a higher one after a hit there.",
           [&](const cache_snapshot& c) {
             auto levels = chain_levels(c);
             auto n = c.cache.tier_hits.size();
             auto& pairs = c.cache.promotions_by_pair;
             for (size_t from = 0; from < n; ++from)
               for (size_t into = 0; into < from; ++into)
                 x.sample("mtcache_promotions_total",
                          {{"cache", c.name},
                           {"from_tier", level_of(levels, from)},
                           {"to_tier", level_of(levels, into)}},
                          from * n + into < pairs.size() ? pairs[from * n + into] : 0);
           });
}

void render_loads(exposition& x) {
  x.family(
      "mtcache_loads_total", "counter",
      "Loader calls of get_or_compute by outcome: a value, an error, the hard timeout.",
      [&](const cache_snapshot& c) {
        auto& s = c.cache;
        auto ended_badly = s.load_errors + s.load_timeouts;
        x.sample("mtcache_loads_total", {{"cache", c.name}, {"result", "success"}},
                 s.loads > ended_badly ? s.loads - ended_badly : 0);
        x.sample("mtcache_loads_total", {{"cache", c.name}, {"result", "failure"}}, s.load_errors);
        x.sample("mtcache_loads_total", {{"cache", c.name}, {"result", "timeout"}},
                 s.load_timeouts);
      });
  x.family("mtcache_load_soft_timeouts_total", "counter",
           "Loads still running at their soft timeout (fail-safe may then serve an expired "
           "value while the load goes on).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_load_soft_timeouts_total", with_cache(c),
                      c.cache.load_soft_timeouts);
           });
  x.family("mtcache_load_duration_seconds", "histogram",
           "How long finished loads took, by outcome.", [&](const cache_snapshot& c) {
             x.histogram("mtcache_load_duration_seconds",
                         {{"cache", c.name}, {"result", "success"}}, c.cache.load_success);
             x.histogram("mtcache_load_duration_seconds",
                         {{"cache", c.name}, {"result", "failure"}}, c.cache.load_failure);
             x.histogram("mtcache_load_duration_seconds",
                         {{"cache", c.name}, {"result", "timeout"}}, c.cache.load_timeout);
           });
  x.family("mtcache_flights", "gauge",
           "Flights running now (one per key being looked up below the first tier or loaded).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_flights", with_cache(c), c.cache.in_flight);
           });
  x.family("mtcache_flights_started_total", "counter", "Flights started.",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_flights_started_total", with_cache(c), c.cache.flights_started);
           });
  x.family("mtcache_flight_joins_total", "counter",
           "Requests that found their key's flight running and waited for it instead of "
           "starting another (stampede protection at work).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_flight_joins_total", with_cache(c), c.cache.flight_joins);
           });
  x.family("mtcache_fail_safe_activations_total", "counter",
           "Flights that served an expired value by fail-safe.", [&](const cache_snapshot& c) {
             x.sample("mtcache_fail_safe_activations_total", with_cache(c),
                      c.cache.fail_safe_activations);
           });
  x.family("mtcache_superseded_fills_total", "counter",
           "Loaded or promoted values dropped because the key changed meanwhile.",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_superseded_fills_total", with_cache(c), c.cache.superseded_fills);
           });
  x.family("mtcache_tracking_races_total", "counter",
           "Reads that raced a change Redis tracking reported: answered, kept out of L1.",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_tracking_races_total", with_cache(c), c.cache.tracking_races);
           });
  x.family("mtcache_repairs_pending", "gauge",
           "Failed writes and removals on a shared tier waiting to be re-applied.",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_repairs_pending", with_cache(c), c.cache.repairs_pending);
           });
  x.family(
      "mtcache_repairs_total", "counter",
      "Held shared-tier changes by how they ended: re-applied, made moot by a newer "
      "change, compensated after a race, dropped past the bound.",
      [&](const cache_snapshot& c) {
        auto& s = c.cache;
        x.sample("mtcache_repairs_total", {{"cache", c.name}, {"result", "repaired"}}, s.repairs);
        x.sample("mtcache_repairs_total", {{"cache", c.name}, {"result", "superseded"}},
                 s.repairs_superseded);
        x.sample("mtcache_repairs_total", {{"cache", c.name}, {"result", "compensated"}},
                 s.repairs_compensated);
        x.sample("mtcache_repairs_total", {{"cache", c.name}, {"result", "dropped"}},
                 s.repairs_dropped);
      });
}

void render_tiers(exposition& x) {
  x.family("mtcache_tier_reads_total", "counter", "Reads a tier answered, by hit or miss.",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers) {
               auto l = tier_labels(c, t);
               l.emplace_back("result", "hit");
               x.sample("mtcache_tier_reads_total", l, t.hits);
               l.back().second = "miss";
               x.sample("mtcache_tier_reads_total", l, t.misses);
             }
           });
  x.family("mtcache_tier_writes_total", "counter", "Values a tier stored.",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               x.sample("mtcache_tier_writes_total", tier_labels(c, t), t.writes);
           });
  x.family("mtcache_tier_removals_total", "counter",
           "Keys a tier removed on request (removals, invalidations from this or other nodes).",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               x.sample("mtcache_tier_removals_total", tier_labels(c, t), t.removes);
           });
  x.family("mtcache_evictions_total", "counter",
           "Entries a local tier dropped: on its own to make room (size), at the end of their "
           "TTL (expired) or of their idle time (idle); because they changed elsewhere "
           "(invalidated: another node, Redis tracking, a recovery's flush).",
           [&](const cache_snapshot& c) {
             auto levels = chain_levels(c);
             for (auto& t : c.tiers) {
               if (!local(t))
                 continue;
               auto l = tier_labels(c, t);
               l.emplace_back("cause", "size");
               x.sample("mtcache_evictions_total", l, t.evictions);
               l.back().second = "expired";
               x.sample("mtcache_evictions_total", l,
                        t.expirations > t.idle_expirations ? t.expirations - t.idle_expirations
                                                           : 0);
               l.back().second = "idle";
               x.sample("mtcache_evictions_total", l, t.idle_expirations);
               auto at = std::find(levels.begin(), levels.end(), t.level);
               auto index = static_cast<size_t>(at - levels.begin());
               l.back().second = "invalidated";
               x.sample("mtcache_evictions_total", l,
                        index < c.cache.invalidated.size() ? c.cache.invalidated[index] : 0);
             }
           });
  x.family("mtcache_tier_entries", "gauge", "Entries a local tier holds.",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               if (local(t))
                 x.sample("mtcache_tier_entries", tier_labels(c, t), t.size);
           });
  x.family("mtcache_tier_weight_bytes", "gauge", "Bytes of keys and values a local tier holds.",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               if (local(t))
                 x.sample("mtcache_tier_weight_bytes", tier_labels(c, t), t.weight);
           });
  x.family("mtcache_tier_up", "gauge",
           "1 while a tier answers (its backend connection is up), else 0.",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               x.sample("mtcache_tier_up", tier_labels(c, t), uint64_t{t.connected ? 1u : 0u});
           });
  x.family("mtcache_tier_errors_total", "counter",
           "Requests a tier failed (backend error replies, connection down).",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               x.sample("mtcache_tier_errors_total", tier_labels(c, t), t.errors);
           });
  x.family("mtcache_tier_timeouts_total", "counter",
           "Times a tier's backend did not answer within the request timeout.",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               x.sample("mtcache_tier_timeouts_total", tier_labels(c, t), t.timeouts);
           });
  x.family("mtcache_tier_reconnects_total", "counter",
           "Times a tier's backend connection was re-established.", [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               if (!local(t))
                 x.sample("mtcache_tier_reconnects_total", tier_labels(c, t), t.reconnects);
           });
  // Sentinel tiers only (they name a primary): a family without samples only adds noise.
  auto sentinel = [](const cache_snapshot& c) {
    return std::any_of(c.tiers.begin(), c.tiers.end(),
                       [](const tier_stats& t) { return !t.primary.empty(); });
  };
  if (x.any(sentinel)) {
    x.family("mtcache_tier_failovers_total", "counter",
             "Times a tier's Sentinel set reconnected to another primary.",
             [&](const cache_snapshot& c) {
               for (auto& t : c.tiers)
                 if (!t.primary.empty())
                   x.sample("mtcache_tier_failovers_total", tier_labels(c, t), t.failovers);
             });
    x.family("mtcache_tier_primary_info", "gauge",
             "The primary a Sentinel tier is connected to, as a label (value 1).",
             [&](const cache_snapshot& c) {
               for (auto& t : c.tiers)
                 if (!t.primary.empty()) {
                   auto l = tier_labels(c, t);
                   l.emplace_back("primary", t.primary);
                   x.sample("mtcache_tier_primary_info", l, uint64_t{1});
                 }
             });
  }
  x.family("mtcache_backend_request_duration_seconds", "histogram",
           "Time from sending a command to a tier's backend to its reply, by operation.",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               for (auto& op : t.ops) {
                 auto l = tier_labels(c, t);
                 l.emplace_back("op", op.op);
                 x.histogram("mtcache_backend_request_duration_seconds", std::move(l), op.latency);
               }
           });
  x.family("mtcache_backend_errors_total", "counter",
           "Commands to a tier's backend that failed (error reply, timeout, connection down), "
           "by operation.",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               for (auto& op : t.ops) {
                 auto l = tier_labels(c, t);
                 l.emplace_back("op", op.op);
                 x.sample("mtcache_backend_errors_total", l, op.errors);
               }
           });
}

// Invalidation figures exist only for caches with a bridge.
void bridge_family(exposition& x, const char* name, const char* type, const char* help,
                   const std::function<void(const cache_snapshot&, const bridge_stats&)>& body) {
  if (!x.any([](const cache_snapshot& c) { return c.has_bridge; }))
    return; // a family without samples only adds noise
  x.family(name, type, help, [&](const cache_snapshot& c) {
    if (c.has_bridge)
      body(c, c.bridge);
  });
}

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
                      {"remove", b.received_removes},
                      {"update", b.received_updates},
                      {"pattern", b.received_patterns},
                      {"bulk", b.received_bulk}};
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

} // namespace

void write_label_value(std::string& out, const std::string& x) {
  for (char ch : x) {
    switch (ch) {
    case '\\':
      out += "\\\\";
      break;
    case '"':
      out += "\\\"";
      break;
    case '\n':
      out += "\\n";
      break;
    default:
      out += ch;
    }
  }
}

std::string render_prometheus(const std::vector<cache_snapshot>& caches) {
  std::string out;
  out.reserve(4096 + caches.size() * 16384);
  exposition x{out, caches};
  render_requests(x);
  render_loads(x);
  render_tiers(x);
  render_invalidation(x);
  return out;
}

} // namespace mtcache::detail
