#pragma once

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "messages/config.hpp"
#include "messages/streams.hpp"

namespace mtcache {

/// Spawns the Redis Pub/Sub publisher and Streams actor (see messages/streams.hpp).
caf::expected<streams_actor> spawn_redis_streams(caf::actor_system& sys,
                                                 const redis_tier_config& cfg);

} // namespace mtcache
