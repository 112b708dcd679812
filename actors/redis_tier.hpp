#pragma once

#include <cstdint>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "mtcache/messages/config.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache {

/// Spawns a Redis tier: one connection, pipelined, on the middleman's multiplexer (no thread
/// of its own). Requests from any number of actors share the connection in arrival order.
/// GET is pipelined with PTTL so a hit carries its remaining TTL in milliseconds (a batch of
/// reads is one MGET and a PTTL per key); SET uses PX; removal uses UNLINK; pattern removal
/// walks SCAN MATCH in batches. It also holds flights' load leases (SET NX PX, released by a
/// compare-and-delete script; messages/detail/lease_protocol.hpp).
///
/// When Redis is unreachable or a request is not answered within `request_timeout`, pending
/// requests fail with `errc::timeout` or `errc::backend_unavailable`, the connection is
/// dropped and re-made with exponential backoff plus jitter; while it is down, requests fail
/// at once. The actor never exits on a Redis error. Fails only for a malformed URL.
caf::expected<batch_tier_actor> spawn_redis_tier(caf::actor_system& sys,
                                                 const redis_tier_config& cfg, uint32_t level);

} // namespace mtcache
