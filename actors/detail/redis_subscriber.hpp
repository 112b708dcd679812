#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "mtcache/codec/redis_url.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache::detail {

struct redis_subscriber_config {
  redis_url url;
  std::string channel;
  /// PING interval while subscribed; an answer missing for `request_timeout` drops the
  /// connection (a Redis that hangs would otherwise look like a quiet channel forever).
  std::chrono::milliseconds keepalive{1000};
  std::chrono::milliseconds request_timeout{500};
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{2000};
};

/// Spawns a Redis Pub/Sub subscriber on a connection of its own (a subscribed connection can
/// run no other commands). It hands every payload on `channel` to `bridge` as
/// `(apply, payload)` and reports `(subscribe, up, after_loss)` when the subscription is
/// made, lost, and made again; it reconnects with exponential backoff plus jitter.
caf::actor spawn_redis_subscriber(caf::actor_system& sys, redis_subscriber_config cfg,
                                  bridge_actor bridge);

} // namespace mtcache::detail
