#pragma once

// Prometheus metrics of every cache in an actor system: as text for an exporter the
// application already runs, or served on GET /metrics (`cache_config::metrics`). The README
// lists every metric and what it means.

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

namespace mtcache {

/// The text exposition format 0.0.4 (Content-Type `text/plain; version=0.0.4`) of every cache
/// spawned in `sys` that is still running, each under its `cache_config::name`. Asks the
/// caches' actors for their counters and waits for them: call it from a thread of your own,
/// not from inside an actor. Fails with errc::timeout if the caches do not answer within
/// `timeout`.
caf::expected<std::string>
render_metrics(caf::actor_system& sys, std::chrono::milliseconds timeout = std::chrono::seconds(2));

/// The port on which `sys` serves /metrics (useful with `metrics_config::port` 0), or 0 if it
/// serves none.
uint16_t metrics_port(caf::actor_system& sys);

} // namespace mtcache
