#pragma once

#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "mtcache/codec/redis_url.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache {

/// One tier of a cache to build: a memory tier, a Redis tier, a memcached tier, or an actor of
/// the user's that speaks `tier_actor` (not owned: the cache never stops it).
struct tier_spec {
  enum class kind : uint8_t { memory, redis, custom, memcached };

  kind type = kind::memory;
  tier_config placement;
  memory_tier_config memory;
  redis_tier_config redis;
  tier_actor custom;
  memcached_tier_config memcached;
};

/// Everything `spawn_cache` needs. Start from `defaults()` or `embedded()`, or from an
/// empty config and add tiers in order (levels strictly ascending).
struct cache_config {
  std::vector<tier_spec> tiers;
  cache_options options;
  /// Cross-node invalidation (off unless Redis Pub/Sub or peer links are configured).
  invalidation_config invalidation;
  /// This node's origin id on the wire; empty picks a random one.
  std::string node_id;
  /// The `cache` label of this cache's metrics; empty reads "cache". A name a live cache of
  /// the same actor system already uses gets "_2", "_3", ... appended.
  std::string name;
  /// Serve every cache of the actor system on `GET /metrics` (off by default).
  metrics_config metrics;

  /// L1 memory tier (5000 entries) + L2 Redis at REDIS_URL or redis://127.0.0.1:6379.
  static cache_config defaults();

  /// An L1 memory tier only: no Redis, nothing outside the process.
  static cache_config embedded();

  cache_config& add_memory_tier(tier_config placement, memory_tier_config cfg = {});

  /// Adds a Redis tier; a Redis server is one store for every node, so the tier is shared.
  cache_config& add_redis_tier(tier_config placement, redis_tier_config cfg = {});

  /// Adds a memcached tier; its servers are one store for every node, so the tier is shared.
  cache_config& add_memcached_tier(tier_config placement, memcached_tier_config cfg = {});

  cache_config& add_tier(tier_config placement, tier_actor tier);
};

/// Checks a config; the error (errc::invalid_config or errc::invalid_url) says what is wrong.
caf::error validate(const cache_config& cfg);

/// The Redis URL invalidation uses: its own, else the first Redis tier's (either may be
/// empty, which `resolve_redis_url` turns into REDIS_URL or the default).
std::string invalidation_url(const cache_config& cfg);

/// The prefixes (of stored names) a Redis tier's connection tracks with
/// `invalidation_config::tracking`: the configured ones, else the tier's key_prefix; empty
/// means every key.
std::vector<std::string> tracked_prefixes(const cache_config& cfg, const redis_tier_config& tier);

} // namespace mtcache
