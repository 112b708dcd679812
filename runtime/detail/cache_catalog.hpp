#pragma once

// Which caches run in which actor system, under which metrics name, and where that system
// serves /metrics. Process-wide because `spawn_cache` is a free function that any thread may
// call; it holds weak references only, so it never keeps a cache (or the system's shutdown)
// waiting.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor_control_block.hpp>
#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/weak_intrusive_ptr.hpp>

#include "mtcache/actors/detail/metrics_scrape.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

class read_view;

class cache_catalog {
public:
  static cache_catalog& instance();

  /// Lists `cache` in `sys` under `name` ("cache" if empty), or under the first of
  /// `name_2`, `name_3`, ... that no live cache of `sys` uses; returns the name given.
  /// `view` is the read view of its first tier, if it has one.
  std::string add(caf::actor_system& sys, std::string name, const cache_actor& cache,
                  std::shared_ptr<read_view> view = nullptr);

  /// The read view `cache` was added with; null if none (or `cache` is not listed).
  std::shared_ptr<read_view> view_of(caf::actor_system& sys, const cache_actor& cache);

  /// The live caches of `sys`, in the order they were added.
  std::vector<named_cache> caches(caf::actor_system& sys);

  /// Ties `cache` to the metrics endpoint of `sys`, spawning it on `cfg`'s address first if
  /// none runs. Fails if it cannot listen, or if `sys` serves metrics on another address.
  caf::error attach_endpoint(caf::actor_system& sys, const metrics_config& cfg,
                             const cache_actor& cache);

  /// The port `sys` serves /metrics on, 0 if none.
  uint16_t endpoint_port(caf::actor_system& sys);

private:
  struct entry {
    const caf::actor_system* sys;
    std::string name;
    caf::weak_actor_ptr handle;
    std::shared_ptr<read_view> view;
  };

  struct endpoint {
    const caf::actor_system* sys;
    std::string host;
    uint16_t port;
    caf::weak_actor_ptr handle;
  };

  void prune();

  // Guards the lists; held briefly, never while waiting on an actor.
  std::mutex mtx_;
  // Serialises `attach_endpoint` calls.
  std::mutex attach_mtx_;
  std::vector<entry> entries_;
  std::vector<endpoint> endpoints_;
};

} // namespace mtcache::detail
