#include "mtcache/runtime/cache_config.hpp"

#include <cmath>

#include "mtcache/codec/detail/memcached_key.hpp"
#include "mtcache/codec/memcached_url.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache {

cache_config cache_config::defaults() {
  cache_config cfg;
  cfg.add_memory_tier(tier_config::as_l1());
  cfg.add_redis_tier(tier_config::as_l2());
  return cfg;
}

cache_config cache_config::embedded() {
  cache_config cfg;
  cfg.add_memory_tier(tier_config::as_l1());
  return cfg;
}

cache_config& cache_config::add_memory_tier(tier_config placement, memory_tier_config cfg) {
  tier_spec spec;
  spec.type = tier_spec::kind::memory;
  spec.placement = placement;
  spec.memory = cfg;
  tiers.emplace_back(std::move(spec));
  return *this;
}

cache_config& cache_config::add_redis_tier(tier_config placement, redis_tier_config cfg) {
  tier_spec spec;
  spec.type = tier_spec::kind::redis;
  spec.placement = placement.with_shared(true);
  spec.redis = std::move(cfg);
  tiers.emplace_back(std::move(spec));
  return *this;
}

cache_config& cache_config::add_memcached_tier(tier_config placement, memcached_tier_config cfg) {
  tier_spec spec;
  spec.type = tier_spec::kind::memcached;
  spec.placement = placement.with_shared(true);
  spec.memcached = std::move(cfg);
  tiers.emplace_back(std::move(spec));
  return *this;
}

cache_config& cache_config::add_tier(tier_config placement, tier_actor tier) {
  tier_spec spec;
  spec.type = tier_spec::kind::custom;
  spec.placement = placement;
  spec.custom = std::move(tier);
  tiers.emplace_back(std::move(spec));
  return *this;
}

namespace {

caf::error invalid(std::string what) {
  return make_error(errc::invalid_config, std::move(what));
}

caf::error check_tier(const tier_spec& spec, size_t index) {
  auto where =
      "tier " + std::to_string(index) + " (level " + std::to_string(spec.placement.level) + "): ";
  auto scale = spec.placement.ttl_scale;
  if (!std::isfinite(scale) || scale <= 0)
    return invalid(where + "ttl_scale must be a positive number");
  switch (spec.type) {
  case tier_spec::kind::memory:
    if (spec.memory.max_entries == 0)
      return invalid(where + "max_entries must be at least 1");
    if (spec.memory.sweep_interval.count() <= 0)
      return invalid(where + "sweep_interval must be positive");
    if (spec.memory.time_to_idle.count() < 0 || spec.memory.fail_safe_window.count() < 0)
      return invalid(where + "time_to_idle and fail_safe_window must not be negative");
    return caf::none;
  case tier_spec::kind::redis: {
    auto& r = spec.redis;
    if (r.request_timeout.count() <= 0 || r.connect_timeout.count() <= 0)
      return invalid(where + "redis timeouts must be positive");
    if (r.backoff_initial.count() <= 0 || r.backoff_max < r.backoff_initial)
      return invalid(where + "backoff_initial must be positive and at most backoff_max");
    if (r.scan_count == 0)
      return invalid(where + "scan_count must be at least 1");
    if (!r.sentinel.master.empty() && !r.url.empty())
      return invalid(where + "give the Redis tier a url or sentinel fields, not both");
    if (!r.sentinel.master.empty() && r.sentinel.sentinels.empty())
      return invalid(where + "sentinel.master needs sentinel.sentinels (host[:port] each)");
    if (r.sentinel.master.empty() && !r.sentinel.sentinels.empty())
      return invalid(where + "sentinel.sentinels needs sentinel.master (the monitored name)");
    if (auto url = resolve_redis_url(configured_url(r)); !url)
      return std::move(url.error());
    return caf::none;
  }
  case tier_spec::kind::memcached: {
    auto& m = spec.memcached;
    if (m.request_timeout.count() <= 0 || m.connect_timeout.count() <= 0)
      return invalid(where + "memcached timeouts must be positive");
    if (m.backoff_initial.count() <= 0 || m.backoff_max < m.backoff_initial)
      return invalid(where + "backoff_initial must be positive and at most backoff_max");
    if (m.key_prefix.size() > detail::memcached_max_prefix_bytes)
      return invalid(where + "the memcached key_prefix is longer than " +
                     std::to_string(detail::memcached_max_prefix_bytes) + " bytes");
    if (auto url = resolve_memcached_url(m.url); !url)
      return std::move(url.error());
    return caf::none;
  }
  case tier_spec::kind::custom:
    if (!spec.custom)
      return invalid(where + "the custom tier handle is invalid");
    return caf::none;
  }
  return caf::none;
}

// Tracking redirects a data connection's invalidations to the subscriber, which Redis
// allows only on the same server; BCAST refuses prefixes that overlap.
caf::error check_tracking(const cache_config& cfg) {
  auto& inv = cfg.invalidation;
  if (!inv.redis)
    return invalid("tracking needs invalidation.redis (its subscriber hears the invalidations)");
  auto server = resolve_redis_url(invalidation_url(cfg));
  if (!server)
    return std::move(server.error());
  if (server->mode == redis_url::topology::cluster)
    return invalid("tracking is not supported on a Redis Cluster: each node tracks only its "
                   "own keys and redirects to a client on the same node");
  bool any = false;
  for (auto& spec : cfg.tiers) {
    if (spec.type != tier_spec::kind::redis)
      continue;
    any = true;
    auto url = resolve_redis_url(configured_url(spec.redis));
    if (!url)
      return std::move(url.error());
    // A Sentinel set is one server wherever its primary is: tracking is switched on again
    // with every reconnect, so it follows a failover like the connections do.
    if (url->kind != server->kind || url->host != server->host || url->port != server->port ||
        url->path != server->path || url->mode != server->mode ||
        url->master_name != server->master_name)
      return invalid("tracking needs every Redis tier on the invalidation Redis server: " +
                     to_string(*url) + " is not " + to_string(*server));
    auto prefixes = tracked_prefixes(cfg, spec.redis);
    for (size_t i = 0; i < prefixes.size(); ++i)
      for (size_t j = 0; j < prefixes.size(); ++j)
        if (i != j && prefixes[j].compare(0, prefixes[i].size(), prefixes[i]) == 0)
          return invalid("tracking prefixes overlap: '" + prefixes[i] + "' and '" + prefixes[j] +
                         "'");
  }
  if (!any)
    return invalid("tracking needs a Redis tier");
  return caf::none;
}

// Leases live on a Redis tier: one server, Sentinel's primary, or the cluster node serving
// the lease key's slot.
caf::error check_load_lease(const cache_config& cfg) {
  auto& o = cfg.options;
  if (o.load_lease_time.count() <= 0)
    return invalid("load_lease_time must be positive");
  for (auto& spec : cfg.tiers)
    if (spec.type == tier_spec::kind::redis)
      return caf::none;
  return invalid("load_lease needs a Redis tier (the lease lives there)");
}

} // namespace

caf::error validate(const cache_config& cfg) {
  if (cfg.tiers.empty())
    return invalid("a cache needs at least one tier");
  for (size_t i = 0; i < cfg.tiers.size(); ++i) {
    if (i > 0 && cfg.tiers[i].placement.level <= cfg.tiers[i - 1].placement.level)
      return invalid("tier levels must be strictly ascending: level " +
                     std::to_string(cfg.tiers[i].placement.level) + " follows level " +
                     std::to_string(cfg.tiers[i - 1].placement.level));
    if (auto err = check_tier(cfg.tiers[i], i))
      return err;
  }
  auto& inv = cfg.invalidation;
  if (inv.redis) {
    if (inv.channel.empty())
      return invalid("the invalidation channel is empty");
    if (auto url = resolve_redis_url(invalidation_url(cfg)); !url)
      return std::move(url.error());
  }
  if (inv.tracking)
    if (auto err = check_tracking(cfg))
      return err;
  if (inv.keepalive.count() <= 0 || inv.backoff_initial.count() <= 0 ||
      inv.backoff_max < inv.backoff_initial || inv.peer_connect_timeout.count() <= 0)
    return invalid("invalidation keepalive, backoff and connect timeout must be positive");
  for (auto& peer : inv.peers)
    if (peer.rfind(':') == std::string::npos)
      return invalid("peer address '" + peer + "' is not host:port");
  auto& o = cfg.options;
  if (o.max_key_bytes == 0 || o.max_value_bytes == 0)
    return invalid("max_key_bytes and max_value_bytes must be at least 1");
  if (o.tier_timeout.count() <= 0 || o.load_timeout.count() <= 0)
    return invalid("tier_timeout and load_timeout must be positive");
  if (o.load_lease)
    if (auto err = check_load_lease(cfg))
      return err;
  if (o.tag_retention.count() < 0)
    return invalid("tag_retention must not be negative (zero keeps removal times forever)");
  if (auto& m = cfg.metrics; m.enabled) {
    if (m.host.empty())
      return invalid("metrics.host is empty (use 127.0.0.1, or 0.0.0.0 for every interface)");
    if (m.scrape_timeout.count() <= 0 || m.max_connections == 0 || m.idle_timeout.count() <= 0)
      return invalid("metrics.scrape_timeout, metrics.max_connections and metrics.idle_timeout "
                     "must be positive");
  }
  return caf::none;
}

std::vector<std::string> tracked_prefixes(const cache_config& cfg, const redis_tier_config& tier) {
  if (!cfg.invalidation.tracking_prefixes.empty())
    return cfg.invalidation.tracking_prefixes;
  if (tier.key_prefix.empty())
    return {};
  return {tier.key_prefix};
}

std::string invalidation_url(const cache_config& cfg) {
  if (!cfg.invalidation.redis_url.empty())
    return cfg.invalidation.redis_url;
  for (auto& spec : cfg.tiers)
    if (spec.type == tier_spec::kind::redis)
      return configured_url(spec.redis);
  return {};
}

} // namespace mtcache
