#pragma once

// mtcache in one include: <mtcache/mtcache.hpp> (installed beside the folders it includes
// from). It includes every public header, and nothing from store/, redis/, memcached/ or
// detail/.

// An application needs these three CAF classes complete before it can reach a cache at all:
// it fills a caf::actor_system_config, loads caf::io::middleman into it (the Redis tier and
// peer links run there) and constructs the caf::actor_system that spawn_cache spawns into.
// mtcache's own headers only forward-declare them, so they are here to make the first lines
// of every program compile from this include alone. The rest of CAF stays opt-in.
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include "mtcache/messages/atoms.hpp"
#include "mtcache/messages/bulk.hpp"
#include "mtcache/messages/bytes.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/messages/interfaces.hpp"
#include "mtcache/messages/invalidation.hpp"
#include "mtcache/messages/lookup.hpp"
#include "mtcache/messages/stats.hpp"
#include "mtcache/messages/strategy.hpp"

#include "mtcache/codec/memcached_url.hpp"
#include "mtcache/codec/redis_url.hpp"
#include "mtcache/codec/typed_value.hpp"

#include "mtcache/actors/callable_loader.hpp"
#include "mtcache/actors/memcached_tier.hpp"
#include "mtcache/actors/memory_tier.hpp"
#include "mtcache/actors/redis_tier.hpp"

#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/cache_config.hpp"
#include "mtcache/runtime/l1_view.hpp"
#include "mtcache/runtime/message_types.hpp"
#include "mtcache/runtime/metrics.hpp"
#include "mtcache/runtime/scheduler_tuning.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "mtcache/runtime/tls.hpp"
#include "mtcache/runtime/typed_cache.hpp"
