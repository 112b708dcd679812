#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/io/middleman_actor.hpp>

#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

struct peer_link_timing {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{2000};
};

/// Spawns the link to one peer at "host:port" (IPv6 as "[::1]:port"): connects through
/// `network` (plain or TLS) without blocking a scheduler thread, introduces `inbox` to the
/// peer's inbox and the peer's inbox to `bridge`, watches the connection and, when it is
/// lost, reconnects with exponential backoff plus jitter. Fails for a malformed address.
caf::expected<caf::actor> spawn_peer_link(caf::actor_system& sys, const std::string& address,
                                          caf::io::middleman_actor network, peer_inbox_actor inbox,
                                          bridge_actor bridge, peer_link_timing timing);

} // namespace mtcache::detail
