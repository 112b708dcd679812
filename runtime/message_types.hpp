#pragma once

#include <caf/fwd.hpp>

namespace mtcache {

/// Registers every mtcache message type and the "mtcache" error category (so that
/// `sys.render(err)` reads well) with `cfg`. Call it once on the config of every actor system
/// that talks to a cache; nodes that exchange invalidations must both call it.
void add_message_types(caf::actor_system_config& cfg);

} // namespace mtcache
