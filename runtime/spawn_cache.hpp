#pragma once

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "mtcache/messages/interfaces.hpp"
#include "mtcache/runtime/cache_config.hpp"

namespace mtcache {

/// Validates `cfg`, spawns its tiers and the coordinator, and returns the handle users talk
/// to. A config with a Redis tier needs `caf::io::middleman` loaded in `sys` (errc::not_configured
/// otherwise); `sys` must have had `add_message_types` applied to its config.
///
/// Redis need not be reachable: its tier keeps reconnecting and the cache serves from the
/// other tiers meanwhile. Stop the cache with `stop_cache`, or drop every handle to it.
caf::expected<cache_actor> spawn_cache(caf::actor_system& sys, const cache_config& cfg);

/// Asks the cache to exit; its flights answer their waiters and the tiers it spawned exit.
void stop_cache(const cache_actor& cache);

} // namespace mtcache
