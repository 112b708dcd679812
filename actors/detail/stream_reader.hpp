#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "mtcache/codec/redis_url.hpp"
#include "mtcache/messages/atoms.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/detail/streams.hpp"
#include "mtcache/messages/stats.hpp"

namespace mtcache::detail {

/// The blocking half of `redis_streams`: XREAD with BLOCK on a Redis connection of its own,
/// so that a read waiting on the server holds up no other command.
using stream_reader_actor = caf::typed_actor<
    // As `streams_actor`'s read; the stream name is given without the key prefix.
    caf::replies_to<xread_atom, std::string, std::string, uint64_t,
                    caf::timespan>::with<std::vector<stream_entry>>,
    // hits (entries read), errors, timeouts, reconnects and connected of its connection.
    caf::replies_to<stats_atom>::with<tier_stats>>;

/// Spawns a reader connected to `url` (a broker on the middleman's multiplexer). Redis
/// serves the commands of one connection in order, so reads are sent one at a time and
/// the others wait here; a read that waited is sent with the block time it has left, so
/// every read answers within its block time plus `request_timeout` (a read queued behind
/// another may thus miss entries that a "$" read sent at once would have seen). Failures,
/// timeouts and reconnects as for `spawn_redis_tier`; pending reads fail with
/// `errc::shutting_down` when the reader exits. Runs until it is sent an exit message.
stream_reader_actor spawn_stream_reader(caf::actor_system& sys, const redis_tier_config& cfg,
                                        redis_url url);

} // namespace mtcache::detail
