#pragma once

// The /metrics endpoint: a broker on CAF's I/O layer (the middleman's multiplexer thread
// reads and writes the sockets; no thread per connection) that speaks just enough HTTP/1.1
// for Prometheus: keep-alive, requests answered in order, GET and HEAD of /metrics. A
// scrape asks the caches for their counters without blocking the broker; other
// connections are served meanwhile.
//
// Chosen over prometheus-cpp's exposer and civetweb (both in Debian): they bring a thread
// pool and a registry of their own beside the actor system, while the counters already live
// in actors and only need gathering; about 250 lines of broker and parser do it.

#include <cstdint>
#include <utility>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "mtcache/actors/detail/metrics_scrape.hpp"
#include "mtcache/messages/config.hpp"

namespace mtcache::detail {

/// Listens on `cfg.host`:`cfg.port` (0: a free port) and serves what `caches` lists. The
/// endpoint stays up while a cache joined to it lives: send `(join_atom, caf::actor cache)`
/// (answered with `ok_atom`); it exits once the last joined cache is down. Fails if the
/// address cannot be bound (errc::backend_unavailable). Returns the handle and the port.
caf::expected<std::pair<caf::actor, uint16_t>>
spawn_metrics_endpoint(caf::actor_system& sys, const metrics_config& cfg, cache_source caches);

} // namespace mtcache::detail
