#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "messages/interfaces.hpp"

namespace mtcache {

/// Produces the value of a key, blocking as long as it needs (a database query, an RPC).
/// Return an error to fail the load; an exception it throws becomes errc::loader_failed.
using load_function = std::function<caf::expected<bytes>(const std::string& key)>;

struct callable_loader_config {
  /// Loads that may run at once; each runs on its own thread (a detached actor), so a slow
  /// function never stalls the actor scheduler. Further loads queue.
  size_t threads = 4;
  /// A call still running after this long is answered with errc::timeout (the thread stays
  /// busy until the function returns). Flights usually time out earlier.
  std::chrono::milliseconds call_timeout{std::chrono::minutes{10}};
};

/// Wraps `fn` as a loader for `get_or_compute`. The loader lives as long as a handle to it.
loader_actor spawn_callable_loader(caf::actor_system& sys, load_function fn,
                                   callable_loader_config cfg = {});

} // namespace mtcache
