#pragma once

#include <functional>
#include <string>
#include <vector>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "mtcache/messages/interfaces.hpp"

namespace mtcache {

/// Produces the value of a key, blocking as long as it needs (a database query, an RPC).
/// Return an error to fail the load; an exception it throws becomes errc::loader_failed.
using load_function = std::function<caf::expected<bytes>(const std::string& key)>;

/// As `load_function`, choosing how long each value lives (see `loaded::ttl`).
using ttl_load_function = std::function<caf::expected<loaded>(const std::string& key)>;

/// Loads many keys in one call (one database query for all), blocking as long as it needs:
/// one entry per key, in order (`bulk_entry::of`, `absent`, `failure`). Return an error to fail
/// every key; another count of entries fails every key with errc::loader_failed, and so does
/// an exception it throws.
using bulk_load_function =
    std::function<caf::expected<std::vector<bulk_entry>>(const std::vector<std::string>& keys)>;

struct callable_loader_config {
  /// Loads that may run at once; each runs on its own thread (a detached actor), so a slow
  /// function never stalls the actor scheduler. Further loads queue. How long a caller
  /// waits is the caller's timeout (get_or_compute's load timeout).
  size_t threads = 4;
};

/// Wraps `fn` as a loader for `get_or_compute`. The loader and its threads live as long as
/// a handle to it.
loader_actor spawn_callable_loader(caf::actor_system& sys, load_function fn,
                                   callable_loader_config cfg = {});

/// As `spawn_callable_loader`, for a function that also chooses each value's TTL.
ttl_loader_actor spawn_callable_ttl_loader(caf::actor_system& sys, ttl_load_function fn,
                                           callable_loader_config cfg = {});

/// As `spawn_callable_loader`, for a function that loads many keys at once
/// (`get_or_compute_many`); each call runs on one thread.
bulk_loader_actor spawn_callable_bulk_loader(caf::actor_system& sys, bulk_load_function fn,
                                             callable_loader_config cfg = {});

} // namespace mtcache
