#include "mtcache/actors/memcached_tier.hpp"

#include <string>
#include <vector>

#include "mtcache/actors/detail/memcached_ring.hpp"
#include "mtcache/actors/detail/memcached_shard.hpp"
#include "mtcache/codec/detail/memcached_key.hpp"
#include "mtcache/codec/memcached_url.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache {

caf::expected<batch_tier_actor>
spawn_memcached_tier(caf::actor_system& sys, const memcached_tier_config& cfg, uint32_t level) {
  auto url = resolve_memcached_url(cfg.url);
  if (!url)
    return std::move(url.error());
  if (cfg.key_prefix.size() > detail::memcached_max_prefix_bytes)
    return make_error(errc::invalid_config, "the memcached key_prefix is longer than " +
                                                std::to_string(detail::memcached_max_prefix_bytes) +
                                                " bytes");
  std::vector<batch_tier_actor> shards;
  for (auto& server : url->servers)
    shards.emplace_back(detail::spawn_memcached_shard(sys, cfg, server, level));
  if (shards.size() == 1)
    return std::move(shards.front());
  return detail::spawn_memcached_ring(sys, cfg, std::move(url->servers), std::move(shards), level);
}

} // namespace mtcache
