#pragma once

#include <cstdint>
#include <vector>

#include <caf/fwd.hpp>

#include "mtcache/codec/memcached_url.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

/// The memcached tier over several servers: places every key on one of `shards` (one per
/// server, in the order of `servers`) by ketama and passes single-key requests on to it,
/// which answers the caller; batches are split per server and their answers merged. Stats
/// and health cover every server. The shards are linked to the ring and exit with it.
batch_tier_actor spawn_memcached_ring(caf::actor_system& sys, const memcached_tier_config& cfg,
                                      std::vector<memcached_server> servers,
                                      std::vector<batch_tier_actor> shards, uint32_t level);

} // namespace mtcache::detail
