#pragma once

// The Redis tier's state and the parts its handlers share (actors/redis_tier.cpp), and its
// bulk and pattern removal (actors/redis_tier_removal.cpp). Private to the Redis tier.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include <hiredis/hiredis.h>

#include "mtcache/actors/detail/redis_commands.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/detail/bridge_protocol.hpp"
#include "mtcache/messages/detail/lease_protocol.hpp"
#include "mtcache/messages/interfaces.hpp"
#include "mtcache/redis/redis_session.hpp"

namespace mtcache::detail {

struct pending {
  enum class op : uint8_t {
    get,
    probe,
    get_batch,
    put,
    put_batch,
    remove,
    exists,
    ping,
    scan,
    unlink,
    track,
    lease,
    release
  };
  op what;
  // Replies this entry consumes (GET + PTTL are two; a batch one per write).
  uint32_t replies;
  // Set once the session queued the entry (0: it failed before anything was sent).
  int64_t deadline_ms = 0;
  // When the command was written, for the backend latency histograms.
  std::chrono::steady_clock::time_point sent;
  caf::response_promise rp;
  // Probe only: the caller's key, where a miss continues and the caller's context.
  std::string key;
  miss_route route;
  caf::message context;
  // scan / unlink: the job this step belongs to.
  uint32_t job = 0;
};

// A pattern removal or bulk removal in progress: SCAN steps and UNLINK batches.
struct removal_job {
  caf::response_promise rp;
  std::string pattern;
  uint64_t removed = 0;
  uint32_t outstanding = 0;
  bool scan_done = false;
};

// Client-side caching asked of this tier's connection: invalidations go to `redirect`, the
// subscriber's client id, and `listener` hears when tracking goes on or off.
struct tracking {
  uint64_t redirect = 0;
  std::vector<std::string> prefixes;
  caf::actor listener;
  bool on = false;
};

struct redis_tier_state {
  redis_tier_config cfg;
  uint32_t level = 0;
  redis_session<pending> session;
  std::unordered_map<uint32_t, removal_job> jobs;
  uint32_t next_job = 0;
  tier_stats stats;
  std::optional<tracking> track;
  // Whether the connection was up when last looked at (see `on_link_change`).
  bool was_up = false;
  /// Latency and errors of the commands by kind (see `op_stats`).
  std::array<backend_op_stats, 7> ops;

  static inline const char* name = "mtcache.redis_tier";
};

/// The Redis tier as the node's bridge sees it: a tier that can also track its keys; and as
/// flights see it: a tier that holds load leases.
using redis_tier_impl = batch_tier_actor::extend_with<tracking_tier_actor, lease_tier_actor>;

using broker_type = redis_session_broker<redis_tier_impl>;
using self_ptr = caf::stateful_actor<redis_tier_state, broker_type>*;

/// Answers an entry that will not get its replies.
void fail(self_ptr self, pending& p, const caf::error& err);

/// The latency and error counters of the kind of command `what` is.
backend_op_stats& op_stats(redis_tier_state& st, pending::op what);

inline auto failer(self_ptr self) {
  return [self](pending& p, const caf::error& err) { fail(self, p, err); };
}

// Queues an entry whose command(s) `write` appends; fails it at once when the link is down.
template <class Write>
void submit(self_ptr self, pending p, Write write) {
  p.sent = std::chrono::steady_clock::now();
  self->state.session.submit(self, std::move(p), write, failer(self));
}

inline pending make_pending(pending::op what, uint32_t replies, caf::response_promise rp) {
  pending p;
  p.what = what;
  p.replies = replies;
  p.rp = std::move(rp);
  return p;
}

/// Removes `keys` (given without the prefix) in UNLINK batches; `rp` gets how many went.
void unlink_keys(self_ptr self, caf::response_promise rp, const std::vector<std::string>& keys);

/// Removes every key `pattern` (prefix included) matches: SCAN steps, each followed by
/// UNLINK batches of what it found; `rp` gets how many went.
void unlink_matching(self_ptr self, caf::response_promise rp, std::string pattern);

/// Tracking (actors/detail/redis_tier_tracking.cpp): turns it on, and again after a reconnect.
caf::result<ok_atom> start_tracking(self_ptr self, uint64_t redirect,
                                    std::vector<std::string> prefixes, caf::actor listener);

/// After every message that may have changed the connection: re-enables tracking on a new
/// connection, and tells the listener that it went off with an old one.
void on_link_change(self_ptr self);

void complete_tracking(self_ptr self, pending& p, std::vector<redis_reply_ptr>& replies);

/// Load leases (actors/detail/redis_tier_lease.cpp): takes `key`'s lease for `token` (SET NX
/// PX), and releases it if `token` still holds it.
caf::result<bool> take_lease(self_ptr self, const std::string& key, const std::string& token,
                             caf::timespan time);
caf::result<bool> release_lease(self_ptr self, const std::string& key, const std::string& token);

/// The reply to a lease or release.
void complete_lease(pending& p, const redisReply* r);

/// The reply to one step of a removal.
void complete_unlink(self_ptr self, pending& p, const redisReply* r);
void complete_scan(self_ptr self, pending& p, const redisReply* r);

} // namespace mtcache::detail
