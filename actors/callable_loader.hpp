#pragma once

#include <functional>
#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "mtcache/messages/interfaces.hpp"

namespace mtcache {

/// Produces the value of a key, blocking as long as it needs (a database query, an RPC).
/// Return an error to fail the load; an exception it throws becomes errc::loader_failed.
using load_function = std::function<caf::expected<bytes>(const std::string& key)>;

/// As `load_function`, choosing how long each value lives (see `loaded::ttl`).
using ttl_load_function = std::function<caf::expected<loaded>(const std::string& key)>;

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

} // namespace mtcache
