#pragma once

// The Redis Cluster tier's state and the parts its files share: routing and redirects
// (actors/detail/redis_cluster_routing.cpp), the slot map (redis_cluster_topology.cpp), and
// the handlers (redis_cluster_tier.cpp). Private to the cluster tier.

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "mtcache/codec/detail/cluster_slot.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/detail/bridge_protocol.hpp"
#include "mtcache/messages/detail/lease_protocol.hpp"
#include "mtcache/messages/interfaces.hpp"
#include "mtcache/redis/redis_session.hpp"

namespace mtcache::detail {

/// The answer to a request the tier split into single-key commands (batches, removals by
/// pattern): filled in as the commands complete, delivered when the last one did.
struct cluster_round {
  enum class kind : uint8_t { reads, writes, removes, health };
  kind what = kind::reads;
  caf::response_promise rp;
  read_batch reads;
  std::vector<caf::error> writes;
  uint64_t removed = 0;
  caf::error failure;
  uint32_t outstanding = 0;
  // health: primaries asked and answering, the slowest answer.
  uint32_t asked = 0;
  uint32_t answered = 0;
  int64_t latency_us = 0;
  std::string detail;
};

/// One command to the cluster. Single-key commands carry what it takes to send them again
/// elsewhere after MOVED, ASK or TRYAGAIN.
struct cluster_command {
  enum class op : uint8_t {
    get,
    gets,
    mget,
    probe,
    put,
    puts,
    remove,
    exists,
    ping,
    scan,
    slots,
    lease,
    release
  };
  op what = op::get;
  uint32_t replies = 1;
  int64_t deadline_ms = 0;
  std::chrono::steady_clock::time_point sent;
  caf::response_promise rp;
  // The key as stored (prefix included), the value and TTL of a put (a lease's token and
  // time). An mget routes by its first key.
  std::string key;
  bytes value;
  caf::timespan ttl{0};
  // probe: the caller's key, where a miss goes, the caller's context.
  std::string user_key;
  miss_route route;
  caf::message context;
  // Part of a round (batches, pattern removal, health), at this position.
  std::shared_ptr<cluster_round> round;
  uint32_t index = 0;
  // Commands for several keys of a batch, with their positions in the round: mget, keys of
  // one slot (as stored); gets, keys of one node (a GET and PTTL each); puts, the writes of
  // one node (keys, values and TTLs, a SET each).
  std::vector<std::string> keys;
  std::vector<uint32_t> indices;
  std::vector<bytes> values;
  std::vector<caf::timespan> ttls;
  // scan: the glob and where the walk of its node stands.
  std::string pattern;
  std::string cursor;
  // Which node it was sent to, whether after ASKING, how often redirected, and when to stop
  // trying (first attempt + request_timeout).
  uint32_t node = 0;
  bool asking = false;
  uint32_t redirects = 0;
  int64_t give_up_ms = 0;
};

/// A node of the cluster the tier talks to: a seed, or a node the slot map named.
struct cluster_node {
  std::string address;
  redis_session<cluster_command> session;
  bool primary = false;
  bool seed = false;
  uint64_t moved = 0;
  uint64_t asked = 0;
};

struct redis_cluster_state {
  redis_tier_config cfg;
  redis_url url;
  uint32_t level = 0;
  std::vector<std::unique_ptr<cluster_node>> nodes;
  std::unordered_map<std::string, uint32_t> by_address;
  // The node serving each slot; `unknown` before the first map.
  static constexpr uint32_t unknown = UINT32_MAX;
  std::array<uint32_t, cluster_slot_count> slots;
  // CLUSTER SLOTS in flight, wanted again once it answers, and when the last one went out.
  bool refreshing = false;
  bool refresh_again = false;
  bool refresh_timer = false;
  // No slot map has arrived yet.
  bool waiting_first_map = true;
  int64_t last_refresh_ms = 0;
  // Commands that could not be sent (their node was down) or were told to retry, waiting for
  // a new map or a short backoff.
  std::deque<cluster_command> parked;
  bool resend_timer = false;
  // One deadline tick for every node's session (see `basic_session::share_tick`).
  bool tick_armed = false;
  // What waits for the first slot map (pattern removal, health): run with true once there is
  // one, with false when asking for it failed.
  std::vector<std::function<void(bool)>> waiting;
  // Buffers batches group their keys in (actors/detail/redis_cluster_batches.cpp): the
  // keys of a read batch as (slot << 32 | position), sorted; one slot's positions; per node,
  // positions (of reads alone in their slot, of writes); a key with the prefix, to hash.
  std::vector<uint64_t> batch_order;
  std::vector<uint32_t> batch_run;
  std::vector<std::vector<uint32_t>> batch_by_node;
  std::string scratch_key;
  tier_stats stats;
  uint64_t refreshes = 0;
  uint64_t failovers = 0;
  uint64_t retries = 0;
  std::array<backend_op_stats, 7> ops;

  static inline const char* name = "mtcache.redis_cluster_tier";
};

using cluster_tier_impl =
    batch_tier_actor::extend_with<tracking_tier_actor>::extend_with<lease_tier_actor>;
using cluster_broker = session_broker<
    cluster_tier_impl::extend<caf::reacts_to<resend_atom>, caf::reacts_to<refresh_atom>>>;
using cluster_ptr = caf::stateful_actor<redis_cluster_state, cluster_broker>*;

inline int64_t now_ms() {
  return redis_session<cluster_command>::now_ms();
}

/// Node ids live in the high bits of their links' epochs.
constexpr int node_epoch_shift = 40;

/// The node serving `address`, connecting to it if new.
uint32_t node_at(cluster_ptr self, const std::string& address);

/// Sends `cmd` to the node serving its key (or `cmd.node` when `cmd.asking`); parks it when
/// that node is down and a new map may help.
void dispatch(cluster_ptr self, cluster_command cmd);

/// `dispatch` for a command whose key's slot is known.
void dispatch(cluster_ptr self, cluster_command cmd, uint16_t slot);

/// Sends `cmd` to node `node` as is.
void send_to(cluster_ptr self, uint32_t node, cluster_command cmd);

/// Runs `send()`, holding every connection's writes until it returns: a batch goes out as one
/// write per node.
template <class Send>
void corked(cluster_ptr self, Send send) {
  auto& nodes = self->state.nodes;
  for (auto& node : nodes)
    node->session.cork();
  send();
  for (size_t i = 0; i < nodes.size(); ++i)
    nodes[i]->session.uncork(self);
}

/// Sends a batch of commands built by `make(i)`, holding every connection's writes until all
/// are queued.
template <class Make>
void dispatch_all(cluster_ptr self, size_t n, Make make) {
  corked(self, [&] {
    for (size_t i = 0; i < n; ++i)
      dispatch(self, make(i));
  });
}

/// One command of `round` is done; the last one delivers the round's answer.
void finish_step(cluster_ptr self, const std::shared_ptr<cluster_round>& round);

/// Answers `cmd` (or its round) with the failure `err`.
void fail(cluster_ptr self, cluster_command& cmd, const caf::error& err);

/// Handles the replies of `cmd`: redirects, or the answer.
void complete(cluster_ptr self, cluster_command& cmd, std::vector<redis_reply_ptr>& replies);

/// Follows the redirect or retry `r` for `cmd`; false if `r` asks for neither.
bool follow(cluster_ptr self, cluster_command& cmd, const redisReply* r);

/// Records the latency of `cmd` (once) in its operation's stats.
void observe_latency(redis_cluster_state& st, cluster_command& cmd);

/// A round answering `rp` once its `n` commands are done.
std::shared_ptr<cluster_round> make_round(cluster_round::kind what, caf::response_promise rp,
                                          size_t n);

/// Sends a batch of reads or writes (actors/detail/redis_cluster_batches.cpp); `rp` gets the
/// answer.
void read_batch_of(cluster_ptr self, caf::response_promise rp,
                   const std::vector<std::string>& keys);
void write_batch(cluster_ptr self, caf::response_promise rp, std::vector<tier_write>& writes);

/// Handles the replies of a command for several keys (mget, gets, puts).
void complete_group(cluster_ptr self, cluster_command& cmd, std::vector<redis_reply_ptr>& replies);

/// Asks for a new slot map soon (at most one CLUSTER SLOTS in flight, a few per second).
void request_refresh(cluster_ptr self);
void on_refresh_timer(cluster_ptr self);
void complete_slots(cluster_ptr self, cluster_command& cmd, const redisReply* reply);

/// Runs `f(true)` once the slot map is known (at once if it is), `f(false)` if fetching it
/// failed.
void when_mapped(cluster_ptr self, std::function<void(bool)> f);
void run_waiting(cluster_ptr self, bool mapped);

/// After every event that may have changed a connection: a primary down asks for a new map.
void after_event(cluster_ptr self);

/// Sends again what waits in `parked` and can go now; fails what waited too long.
void resend_parked(cluster_ptr self);

/// Removes every key matching `pattern` (prefix included) on every primary; `rp` gets the
/// count.
void remove_matching(cluster_ptr self, caf::response_promise rp, std::string pattern);
void complete_scan(cluster_ptr self, cluster_command& cmd, const redisReply* reply);

/// Whether every primary is connected; the stats with one entry per node.
tier_stats cluster_stats(cluster_ptr self);

backend_op_stats& op_stats(redis_cluster_state& st, cluster_command::op what);

inline auto cluster_failer(cluster_ptr self) {
  return [self](cluster_command& cmd, const caf::error& err) { fail(self, cmd, err); };
}

} // namespace mtcache::detail
