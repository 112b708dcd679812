#pragma once

#include <string>
#include <string_view>

#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "mtcache/messages/atoms.hpp"

namespace mtcache::detail {

// Internal vocabulary of load leases (cache_options::load_lease) between a flight and the
// Redis tier: one lease per cache key, held by the token of the flight that loads it.

/// What the Redis tier stores a key's lease under, after its key prefix: the key follows.
/// The coordinator refuses keys that start with it, so no cached key can meet a lease.
inline constexpr std::string_view lease_marker{"\0mtcache:lease\0", 15};

/// A Redis tier that holds load leases: one server, Sentinel's primary, or a cluster (the
/// node serving the lease key's slot).
using lease_tier_actor = caf::typed_actor<
    // SET <prefix><marker><key> <token> NX PX <time>: true if the token holds the lease now,
    // false if another token does.
    caf::replies_to<lease_atom, std::string, std::string, caf::timespan>::with<bool>,
    // Releases the lease if the token still holds it (a compare-and-delete script): true if
    // it did.
    caf::replies_to<lease_atom, delete_atom, std::string, std::string>::with<bool>>;

} // namespace mtcache::detail
