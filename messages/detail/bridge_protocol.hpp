#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

// Internal vocabulary of the invalidation bridge with the node's own actors: what the Redis
// subscriber and the Redis tiers report about client-side caching (CLIENT TRACKING), and the
// bridge's periodic tick. Other nodes only ever see `peer_inbox_actor`.

/// A tier whose Redis connection can track keys for client-side caching (the Redis tier).
using tracking_tier_actor = caf::typed_actor<
    // CLIENT TRACKING ON REDIRECT <redirect> BCAST [PREFIX p ...] NOLOOP, now and after every
    // reconnect; the listener hears `(track, level, redirect, on)` whenever it goes on or off.
    caf::replies_to<track_atom, uint64_t, std::vector<std::string>, caf::actor>::with<ok_atom>>;

/// The bridge as the node's own actors see it.
using bridge_impl = bridge_actor::extend<
    // Periodic work: gaps past their grace, the audit stream position, the backlog.
    caf::reacts_to<caf::tick_atom>,
    // The subscriber listens on the tracking channel as this client id (after every
    // (re)subscribe): data connections redirect their invalidations there.
    caf::reacts_to<track_atom, uint64_t>,
    // Keys Redis invalidated (stored names, key prefix included); `true` with no keys when
    // the whole database was flushed.
    caf::reacts_to<track_atom, std::vector<std::string>, bool>,
    // Redis refused the tracking channel (a user without the permission).
    caf::reacts_to<track_atom, caf::error>,
    // Tracking on the data connection of the Redis tier at this level, redirected to this
    // client id, is on or off.
    caf::reacts_to<track_atom, uint32_t, uint64_t, bool>>;

} // namespace mtcache::detail
