#pragma once

#include <cstdint>

#include <caf/fwd.hpp>

#include "mtcache/codec/memcached_url.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

/// The memcached tier for one server: a broker on the middleman's multiplexer with one
/// pipelined meta-protocol connection (see spawn_memcached_tier for the semantics). It maps
/// keys itself (prefix, base64 or hash) and so speaks the tier interface with the caller's
/// keys; several of them sit behind a ring (memcached_ring.hpp).
batch_tier_actor spawn_memcached_shard(caf::actor_system& sys, const memcached_tier_config& cfg,
                                       memcached_server server, uint32_t level);

} // namespace mtcache::detail
