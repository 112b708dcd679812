#pragma once

#include <cstdint>

#include <caf/fwd.hpp>

#include "mtcache/codec/redis_url.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

/// The Redis tier over a Redis Cluster (`url` of mode cluster): one pipelined connection per
/// node on the middleman's multiplexer, every command sent to the primary serving its key's
/// slot. See `spawn_redis_tier`.
batch_tier_actor spawn_redis_cluster_tier(caf::actor_system& sys, const redis_tier_config& cfg,
                                          redis_url url, uint32_t level);

} // namespace mtcache::detail
