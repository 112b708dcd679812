#include "mtcache/codec/detail/prometheus_text.hpp"

#include "mtcache/codec/detail/prometheus_exposition.hpp"

namespace mtcache::detail::prometheus {

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
  x.family("mtcache_eager_refreshes_total", "counter",
           "Eager refreshes started (a get_or_compute hit past its refresh share).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_eager_refreshes_total", with_cache(c), c.cache.eager_refreshes);
           });
  x.family("mtcache_eager_refresh_failures_total", "counter",
           "Eager refreshes whose load failed or timed out (the value stayed).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_eager_refresh_failures_total", with_cache(c),
                      c.cache.eager_refresh_failures);
           });
  x.family("mtcache_fleet_forwarded_total", "counter",
           "Loads handed to the key's owner node (fleet-wide flights).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_fleet_forwarded_total", with_cache(c), c.cache.fleet_forwarded);
           });
  x.family("mtcache_fleet_fallbacks_total", "counter",
           "Loads handed to an owner node that this node ran itself all the same (the owner "
           "down, cut off or too slow).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_fleet_fallbacks_total", with_cache(c), c.cache.fleet_fallbacks);
           });
  x.family("mtcache_fleet_served_total", "counter",
           "get_or_compute requests other nodes handed to this node as the key's owner.",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_fleet_served_total", with_cache(c), c.cache.fleet_served);
           });
  x.family("mtcache_fleet_peers", "gauge",
           "Peers fleet-wide flights route loads over now (0: every load runs here).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_fleet_peers", with_cache(c), uint64_t{c.cache.fleet_peers});
           });
  x.family("mtcache_tag_removals_total", "counter",
           "Tags removed, by this node or (through invalidation) another.",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_tag_removals_total", with_cache(c), c.cache.tag_removals);
           });
  x.family("mtcache_tags_hidden_total", "counter",
           "Values read from a tier below the first that a tag removal hid.",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_tags_hidden_total", with_cache(c), c.cache.tags_hidden);
           });
  x.family("mtcache_clears_total", "counter",
           "Whole-cache clears applied, by this node or another.", [&](const cache_snapshot& c) {
             x.sample("mtcache_clears_total", with_cache(c), c.cache.clears);
           });
  x.family("mtcache_lease_acquired_total", "counter",
           "Loads run holding the key's load lease on the Redis tier (no fleet owner to go to).",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_lease_acquired_total", with_cache(c), c.cache.lease_acquired);
           });
  x.family("mtcache_lease_waited_total", "counter",
           "Flights answered with the value another node's lease holder loaded, without a "
           "load here.",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_lease_waited_total", with_cache(c), c.cache.lease_waited);
           });
  x.family("mtcache_lease_fallbacks_total", "counter",
           "Loads run here without the load lease all the same: Redis failed, or the wait "
           "outlasted the load's timeout.",
           [&](const cache_snapshot& c) {
             x.sample("mtcache_lease_fallbacks_total", with_cache(c), c.cache.lease_fallbacks);
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

} // namespace mtcache::detail::prometheus

namespace mtcache::detail {

using namespace prometheus;

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
