#pragma once

#include <memory>
#include <optional>
#include <vector>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "mtcache/actors/detail/invalidation_bridge.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/detail/flight_protocol.hpp"
#include "mtcache/store/tag_clock.hpp"

namespace mtcache::detail {

/// Spawns the coordinator: the actor users talk to. It routes reads through the tier chain
/// (a first-tier hit is answered by the tier itself, by delegation), runs one flight per
/// key that misses, promotes hits upward, writes every tier on set, and keeps exact counters.
/// `owned` actors (the tiers and helpers the runtime spawned for it) are told to exit when
/// the coordinator exits.
/// With `bridge`, the coordinator spawns and owns the node's invalidation bridge. `tags` is the
/// tag clock the first tier's read view checks against; the coordinator makes its own if null.
cache_actor spawn_coordinator(caf::actor_system& sys, tier_chain tiers, cache_options opts,
                              std::vector<caf::actor> owned,
                              std::optional<bridge_params> bridge = std::nullopt,
                              std::shared_ptr<tag_clock> tags = nullptr);

} // namespace mtcache::detail
