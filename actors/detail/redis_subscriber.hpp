#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "mtcache/codec/redis_url.hpp"
#include "mtcache/messages/detail/bridge_protocol.hpp"

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
  /// Also subscribe to `__redis__:invalidate`, where Redis sends the keys that data
  /// connections tracking with `CLIENT TRACKING ... REDIRECT <this connection's id>` hear of.
  bool tracking = false;
};

/// The channel Redis sends client-side caching invalidations on (RESP2).
constexpr const char* tracking_channel = "__redis__:invalidate";

/// What the bridge asks of its subscriber.
using subscriber_actor = caf::typed_actor<
    // A barrier: answered once Redis answers a PING sent now on the subscribed connection,
    // so every message Redis delivered to this subscriber before has arrived. Fails if the
    // subscription is not up or is lost before the answer.
    caf::replies_to<caf::ping_atom>::with<ok_atom>>;

/// Spawns a Redis Pub/Sub subscriber on a connection of its own (a subscribed connection can
/// run no other commands). It hands every payload on `channel` to `bridge` as
/// `(apply, payload)` and reports `(subscribe, up, after_loss)` when the subscription is
/// made, lost, and made again; it reconnects with exponential backoff plus jitter.
///
/// With `tracking`, it first asks for its client id (`CLIENT ID`) and subscribes to the
/// tracking channel too, in a command of its own so that a user without permission for it
/// keeps the invalidation channel. It tells `bridge` `(track, client_id)` once subscribed
/// there, `(track, keys, false)` for every invalidation and `(track, {}, true)` for a flush
/// of the database (a nil invalidation), and `(track, error)` if Redis refused the channel.
subscriber_actor spawn_redis_subscriber(caf::actor_system& sys, redis_subscriber_config cfg,
                                        bridge_impl bridge);

} // namespace mtcache::detail
