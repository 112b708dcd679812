#pragma once

#include <cstdint>

#include <caf/fwd.hpp>

#include "mtcache/messages/config.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache {

/// Spawns an in-process memory tier around a `memory_store`: bounded by entries and
/// optionally by weight, per-entry TTL, optional time-to-idle, expiry on read plus a sweep
/// every `sweep_interval`, glob removal over its own keys. Its periodic sweep keeps it alive:
/// whoever spawns it standalone must send it an exit message.
batch_tier_actor spawn_memory_tier(caf::actor_system& sys, const memory_tier_config& cfg,
                                   uint32_t level);

} // namespace mtcache
