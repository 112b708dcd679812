#pragma once

#include <cstdint>
#include <memory>

#include <caf/fwd.hpp>

#include "mtcache/messages/config.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache {

namespace detail {
class read_view;
} // namespace detail

/// Spawns an in-process memory tier around a `memory_store`: bounded by entries and
/// optionally by weight, per-entry TTL, optional time-to-idle, expiry on read plus a sweep
/// every `sweep_interval`, glob removal over its own keys. Its periodic sweep keeps it alive:
/// whoever spawns it standalone must send it an exit message.
batch_tier_actor spawn_memory_tier(caf::actor_system& sys, const memory_tier_config& cfg,
                                   uint32_t level);

/// The same, publishing every change to `view` before it replies, draining the reads `view`
/// recorded into its policy (on every write, every sweep, and when the view asks), and
/// counting the view's hits in its stats. When the tier exits, `view` is emptied.
batch_tier_actor spawn_memory_tier(caf::actor_system& sys, const memory_tier_config& cfg,
                                   uint32_t level, std::shared_ptr<detail::read_view> view);

} // namespace mtcache
