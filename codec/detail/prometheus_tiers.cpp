// The families of the tiers: reads, writes, evictions, connections, backend latency, and
// the nodes behind a tier over a Redis Cluster.

#include "mtcache/codec/detail/prometheus_exposition.hpp"

namespace mtcache::detail::prometheus {

namespace {

label_list node_labels(const cache_snapshot& c, const tier_stats& t, const node_stats& n) {
  auto l = tier_labels(c, t);
  l.emplace_back("node", n.address);
  return l;
}

bool any_nodes(exposition& x) {
  return x.any([](const cache_snapshot& c) {
    return std::any_of(c.tiers.begin(), c.tiers.end(), [](auto& t) { return !t.nodes.empty(); });
  });
}

// Tiers over a Redis Cluster: one sample per node, and how the tier followed the topology.
void render_nodes(exposition& x) {
  if (!any_nodes(x))
    return; // families without samples only add noise
  x.family("mtcache_cluster_node_up", "gauge",
           "1 while the tier's connection to a cluster node is up.", [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               for (auto& n : t.nodes)
                 x.sample("mtcache_cluster_node_up", node_labels(c, t, n),
                          uint64_t{n.connected ? 1u : 0u});
           });
  x.family("mtcache_cluster_node_primary", "gauge",
           "1 while a cluster node serves slots, as the tier's slot map says.",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               for (auto& n : t.nodes)
                 x.sample("mtcache_cluster_node_primary", node_labels(c, t, n),
                          uint64_t{n.role == "primary" ? 1u : 0u});
           });
  x.family("mtcache_cluster_redirects_total", "counter",
           "Redirects a cluster node answered with, by kind (moved: the slot lives elsewhere; "
           "ask: one request goes elsewhere during a migration).",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers)
               for (auto& n : t.nodes) {
                 auto l = node_labels(c, t, n);
                 l.emplace_back("kind", "moved");
                 x.sample("mtcache_cluster_redirects_total", l, n.moved);
                 l.back().second = "ask";
                 x.sample("mtcache_cluster_redirects_total", l, n.asked);
               }
           });
  x.family("mtcache_cluster_topology_events_total", "counter",
           "How a tier followed its cluster: slot maps fetched, requests retried after TRYAGAIN "
           "or CLUSTERDOWN, primaries replaced while unreachable.",
           [&](const cache_snapshot& c) {
             for (auto& t : c.tiers) {
               if (t.nodes.empty())
                 continue;
               auto l = tier_labels(c, t);
               l.emplace_back("event", "refresh");
               x.sample("mtcache_cluster_topology_events_total", l, t.topology.refreshes);
               l.back().second = "retry";
               x.sample("mtcache_cluster_topology_events_total", l, t.topology.retries);
               l.back().second = "failover";
               x.sample("mtcache_cluster_topology_events_total", l, t.topology.failovers);
             }
           });
}

} // namespace

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
  render_nodes(x);
}

} // namespace mtcache::detail::prometheus
