#pragma once

#include <string>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "mtcache/messages/config.hpp"
#include "mtcache/messages/detail/streams.hpp"

namespace mtcache::detail {

/// Spawns the Redis Pub/Sub and Streams actor: a broker on the middleman's multiplexer (no
/// thread of its own) with one pipelined connection for PUBLISH, XADD, XREVRANGE and
/// non-blocking XREAD, and a `stream_reader` of its own, on a second connection, for reads
/// with a block time, so those never hold up the rest. The actor stops the reader when it
/// exits.
///
/// `cfg.key_prefix` is prepended to stream names and to channel names. A request not
/// answered within `request_timeout` (a blocking read: its block time plus
/// `request_timeout`) fails with `errc::timeout` and its connection is made anew, with the
/// backoff of `cfg`; while a connection is down its requests fail at once with
/// `errc::backend_unavailable`. Error replies fail with `errc::backend_error` and Redis'
/// message; an empty stream name with `errc::invalid_key`. A count of 0 means what it
/// means to Redis: no entries for the newest, no limit for a read. Redis 7.0 ends a BLOCK
/// up to 1/hz late (100 ms by default): keep `request_timeout` well above that.
///
/// Stats (kind "streams"): writes counts XADD and PUBLISH, hits the entries read, errors
/// the requests that Redis failed or that could not reach it; reconnects, timeouts and
/// connected cover both connections. Health is a PING on the first connection. Fails only
/// for a malformed URL.
///
/// On a Redis Cluster both connections go to the primary serving `stream` (the audit
/// stream, one key, so one slot), and follow it when a reply says it moved.
caf::expected<streams_actor> spawn_redis_streams(caf::actor_system& sys,
                                                 const redis_tier_config& cfg,
                                                 const std::string& stream = {});

} // namespace mtcache::detail
