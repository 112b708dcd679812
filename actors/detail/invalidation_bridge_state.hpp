#pragma once

// The invalidation bridge's state and the parts its files share: receiving and recovery
// (invalidation_bridge.cpp), sending and the Redis backlog (bridge_publishing.cpp), the
// audit stream position and replay (bridge_replay.cpp). Private to the bridge.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/actors/detail/clock.hpp"
#include "mtcache/actors/detail/invalidation_bridge.hpp"
#include "mtcache/actors/detail/publish_backlog.hpp"
#include "mtcache/actors/detail/redis_subscriber.hpp"
#include "mtcache/actors/detail/sequence_tracker.hpp"
#include "mtcache/messages/detail/bridge_protocol.hpp"
#include "mtcache/messages/detail/flight_protocol.hpp"

namespace mtcache::detail {

/// A place in the audit stream up to which this node has applied every change: the id of
/// an entry and how many entries the stream had ever received then.
struct stream_position {
  std::string id;
  uint64_t entries_added = 0;
};

/// Where a change came from, for counting.
enum class change_source : uint8_t { pubsub, peer, replay };

struct bridge_state {
  bridge_state() = default;

  bridge_params p;
  caf::weak_actor_ptr coordinator;
  std::string channel;
  std::string stream;

  // Sending: this node's incarnation and the number of its last change.
  uint64_t epoch = 0;
  uint64_t seq = 0;
  publish_backlog backlog;
  // A drained backlog is being published; a PING asks whether Redis is back for it.
  bool draining = false;
  bool probing = false;

  // Receiving.
  sequence_tracker tracker;
  subscriber_actor subscriber;
  std::vector<peer_inbox_actor> peers;
  // A peer link went down since the last recovery: the next link-up must recover.
  bool lost_peer = false;
  peer_inbox_actor inbox;
  std::vector<caf::actor> owned;

  // Replay (see bridge_replay.cpp).
  std::optional<stream_position> cursor;
  bool syncing = false;
  int64_t last_sync_ms = 0;
  bool replaying = false;
  bool replay_again = false;
  // Why a replay that failed (Redis did not answer) must run again; empty if none must.
  std::string replay_pending;

  // Redis tracking (see bridge_tracking.cpp): the subscriber's client id (0 while it has
  // none), which tracked tiers track for it, and whether changes went unreported since
  // tracking was last on everywhere.
  uint64_t tracking_client = 0;
  std::vector<bool> tracking_on;
  bool tracking_lost = true;

  bridge_stats stats;

  static inline const char* name = "mtcache.invalidation_bridge";
};

using bridge_ptr = bridge_impl::stateful_pointer<bridge_state>;

/// How long the bridge waits for the coordinator or the streams actor.
constexpr auto bridge_call_timeout = std::chrono::seconds{5};

/// The node's coordinator, or an invalid handle once it is gone.
coordinator_actor coordinator_of(bridge_ptr self);

/// Whether this node can replay missed changes: it publishes to Redis with an audit stream.
bool can_replay(const bridge_state& st);

/// Applies a change another node made, unless it is ours, already applied, or not allowed.
void accept(bridge_ptr self, invalidation change, change_source source);

/// Drops the local tiers (unless the policy is none) and forgives every gap.
void flush_local(bridge_ptr self, const std::string& why, uint64_t bridge_stats::*reason);

// bridge_publishing.cpp

/// A change this node made: stamped and sent on every path.
void send_out(bridge_ptr self, invalidation& change);

/// Publishes what Redis did not take, once it answers again.
void retry_backlog(bridge_ptr self);

// bridge_tracking.cpp

/// The subscriber hears tracking invalidations as `client_id`: every tracked tier redirects
/// there.
void tracking_redirect(bridge_ptr self, uint64_t client_id);

/// Tracking on the Redis tier at `level`, redirected to `redirect`, went on or off.
void tracking_changed(bridge_ptr self, uint32_t level, uint64_t redirect, bool on);

/// The subscriber lost Redis: invalidations sent meanwhile are lost.
void tracking_subscription_lost(bridge_ptr self);

/// Redis refused the tracking channel.
void tracking_refused(bridge_ptr self, const caf::error& err);

/// Names Redis invalidated, or a flush of the database.
void tracking_invalidated(bridge_ptr self, const std::vector<std::string>& names, bool flushed);

// bridge_replay.cpp

/// Notes the audit stream's newest entry as the position up to which every change was
/// applied, once a PING on the subscription proves its messages have all arrived.
void sync_position(bridge_ptr self);

/// Applies what the audit stream holds after the last known position; drops the local
/// tiers if it no longer holds all of it, or if a gap open when it started stays open.
void replay(bridge_ptr self, const std::string& why);

/// The periodic work: gaps past their grace, the stream position, the backlog.
void on_tick(bridge_ptr self);

} // namespace mtcache::detail
