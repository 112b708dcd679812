#pragma once

#include <caf/fwd.hpp>

#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

/// Spawns the face a node shows other CAF nodes: it accepts changes and link-ups and passes
/// them to `bridge`, and loads other nodes hand to this one and passes them to `coordinator`
/// (held weakly: the coordinator owns the bridge, which owns the inbox). Publishing this
/// instead of the bridge keeps the bridge's local-only messages (publish a change, raw Redis
/// payloads) out of reach of the network.
peer_inbox_actor spawn_peer_inbox(caf::actor_system& sys, bridge_actor bridge,
                                  caf::weak_actor_ptr coordinator);

} // namespace mtcache::detail
