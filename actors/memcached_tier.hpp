#pragma once

#include <cstdint>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "mtcache/messages/config.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache {

/// Spawns a memcached tier: per server one connection speaking the meta protocol,
/// pipelined, on the middleman's multiplexer (no thread of its own), as the Redis tier
/// does; with several servers, an actor in front places every key by ketama (see
/// memcached_tier_config::url) and splits batches per server.
///
/// Reads carry the remaining TTL (`mg … v t`, whole seconds) so promotion keeps it. TTLs go
/// out in whole seconds, rounded up; above 30 days as the absolute Unix time memcached
/// expects. Any key works: keys memcached cannot hold as they are travel base64-encoded or
/// hashed (codec/detail/memcached_key.hpp). Values above `max_item_bytes` fail with
/// `errc::value_too_large`. Pattern removal answers `errc::not_supported` (memcached cannot
/// list keys); `clear` flushes every server without a key prefix and is not supported with
/// one. Fail-safe reads find nothing (memcached drops expired items itself).
///
/// When a server is unreachable or a request is not answered within `request_timeout`, its
/// pending requests fail with `errc::timeout` or `errc::backend_unavailable`, and its
/// connection is dropped and re-made with exponential backoff plus jitter; while it is down,
/// requests for its keys fail at once (keys are not moved to other servers, which would
/// serve stale values once it is back). Health reports every server. The actor never exits
/// on a server error. Fails only for a malformed URL or an over-long key prefix.
caf::expected<batch_tier_actor>
spawn_memcached_tier(caf::actor_system& sys, const memcached_tier_config& cfg, uint32_t level);

} // namespace mtcache
