#pragma once

// The coordinator's state and the operations its handlers share (in actors/coordinator.cpp).
// Private to the coordinator: nothing else includes this.

#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/duration.hpp>
#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "mtcache/actors/detail/flight.hpp"
#include "mtcache/codec/detail/glob.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/detail/flight_protocol.hpp"

namespace mtcache::detail {

struct flight_entry {
  flight_actor handle;
  uint64_t id = 0;
  // Set when the key was written, removed or invalidated after the flight started: its
  // value is older than what the tiers now hold, so its fill is refused.
  bool superseded = false;
};

/// A fan-out to tiers that answer in time, held to tier_timeout by the coordinator's sweep.
struct round_deadline {
  int64_t at_ms;
  /// Expired once every tier answered: the entry can go.
  std::weak_ptr<void> alive;
  /// Fails whatever is still outstanding.
  std::function<void()> expire;
};

/// A read of the first tier waiting to go out in the next batch; `context` as for probes.
struct queued_read {
  std::string key;
  caf::typed_response_promise<lookup> rp;
  caf::message context;
};

/// A set waiting to go out in the next batch.
struct queued_write {
  std::string key;
  bytes value;
  caf::timespan ttl;
  bool broadcast;
  caf::typed_response_promise<write_ack> rp;
};

struct coordinator_state {
  std::shared_ptr<const tier_chain> tiers;
  cache_options opts;
  std::unordered_map<std::string, flight_entry> flights;
  // In deadline order: every round gets the same tier_timeout.
  std::deque<round_deadline> deadlines;
  bool sweep_armed = false;
  uint64_t next_flight = 0;
  cache_stats stats;
  // First-tier hits are answered by the tier; they are the reads sent there minus the
  // misses that came back.
  uint64_t fast_gets = 0;
  uint64_t first_tier_misses = 0;
  std::mt19937_64 rng;
  // Where changes go to reach other nodes; invalid without invalidation configured.
  bridge_actor bridge;
  // Sets go out in batches when every tier takes them, reads when the first tier wants
  // them (see flush_later). Only one of the queues holds anything at a time.
  bool batch_writes = false;
  bool batch_reads = false;
  std::vector<queued_write> queued_writes;
  std::vector<queued_read> queued_reads;
  bool flush_sent = false;
  // Batches sent and not answered yet, per kind (see max_batches_out).
  size_t read_batches_out = 0;
  size_t write_batches_out = 0;

  static inline const char* name = "mtcache.coordinator";
};

using coordinator_ptr = coordinator_actor::stateful_pointer<coordinator_state>;

caf::error check_key(const coordinator_state& st, const std::string& key);

caf::error check_value(const coordinator_state& st, const bytes& value);

/// A valid pattern, compiled; refuses match-all patterns unless the options allow them.
caf::expected<glob> check_pattern(const coordinator_state& st, const std::string& pattern);

std::vector<size_t> all_tiers(const coordinator_state& st);

/// The tiers that belong to this node alone (what received changes and recovery touch).
std::vector<size_t> local_tiers(const coordinator_state& st);

/// Marks the flight of `key` (or of every key `pattern` matches, or every flight) as
/// superseded: its value is older than a change made since.
void supersede(coordinator_state& st, const std::string& key);
void supersede(coordinator_state& st, const glob& pattern);
void supersede_all(coordinator_state& st);

/// The flight of `key` if one runs and its value is still current, else nullptr.
const flight_actor* live_flight(const coordinator_state& st, const std::string& key);

/// The flight of `key`, spawned if none runs.
flight_actor flight_for(coordinator_ptr self, const std::string& key, uint32_t first_tier);

void merge(cache_stats& into, const flight_report& report);

/// Answers a write with its ack, or with an error when no tier took it.
void deliver_ack(caf::typed_response_promise<write_ack>& rp, write_ack ack);

/// Sends `change` to other nodes, if this node has a bridge.
void publish(coordinator_ptr self, invalidation change);

/// Which of `targets` took a command and which failed, and why.
template <class T>
write_ack to_ack(const coordinator_state& st, const std::vector<size_t>& targets,
                 const std::vector<caf::expected<T>>& results) {
  write_ack ack;
  for (size_t k = 0; k < targets.size(); ++k) {
    if (results[k])
      ++ack.written;
    else
      ack.failed.push_back({(*st.tiers)[targets[k]].cfg.level, results[k].error()});
  }
  return ack;
}

/// How long a request to tier `i` waits in CAF: not at all for a tier that answers in time
/// (the coordinator's sweep holds it to tier_timeout), tier_timeout otherwise.
caf::duration tier_wait(const coordinator_state& st, size_t i);

/// Calls `expire` at tier_timeout from now if `alive` still is by then.
void watch_deadline(coordinator_ptr self, std::weak_ptr<void> alive, std::function<void()> expire);

/// Runs the expiries that are due (the coordinator's `tick`).
void sweep_deadlines(coordinator_ptr self);

caf::error tier_timeout_error(const coordinator_state& st);

/// Requests per batch: bounds a batch message and how long its first request waits.
constexpr size_t max_batch = 256;

/// Batches of one kind in flight at a time. While that many are out, requests gather in the
/// queue and go out as the next batch when one comes back: under load batches grow with
/// the round trip instead of staying as small as one mailbox run (18 reads on average at
/// 1 024 outstanding without the bound, about 74 with it). 4, 8 and 16 measured alike.
constexpr size_t max_batches_out = 8;

/// Called after queueing a request (`queued` of its kind, `out` batches of its kind in
/// flight): sends the queue at once when it is full or nothing waits behind it in the
/// mailbox, else leaves it to a flush message queued behind what waits, or to the next
/// batch that comes back.
void flush_later(coordinator_ptr self, size_t queued, size_t out);

/// The flush message: sends each queue whose kind has fewer than max_batches_out out.
void flush_ready(coordinator_ptr self);

/// Sends the queued reads to the first tier as one batch (actors/coordinator.cpp).
void flush_reads(coordinator_ptr self);

/// Sends whatever is queued. Every handler that reaches a tier or a flight calls it first, so
/// each tier still receives everything in the order the coordinator received it.
void flush_queued(coordinator_ptr self);

/// Empties `queue` into a batch that the fan-out's callbacks share.
template <class T>
std::shared_ptr<std::vector<T>> take_queued(std::vector<T>& queue) {
  auto batch = std::make_shared<std::vector<T>>(std::move(queue));
  queue.clear();
  return batch;
}

/// fan_out counts a failed answer once; a batch counts each of its requests instead.
template <class Reply>
void uncount_failed_batches(coordinator_state& st,
                            const std::vector<caf::expected<Reply>>& answers) {
  for (auto& answer : answers)
    if (!answer)
      --st.stats.tier_errors;
}

/// One fan-out: what each target tier answered so far.
template <class Reply, class Done>
struct fan_out_round {
  std::vector<size_t> targets;
  std::vector<caf::expected<Reply>> results;
  std::vector<bool> answered;
  size_t outstanding;
  Done done;
};

/// Records the answer of target `k`; a late one, after the sweep failed the round, is dropped.
template <class Reply, class Done>
void settle(coordinator_ptr self, fan_out_round<Reply, Done>& r, size_t k, caf::expected<Reply> x) {
  if (r.outstanding == 0 || r.answered[k])
    return;
  if (!x)
    ++self->state.stats.tier_errors;
  r.answered[k] = true;
  r.results[k] = std::move(x);
  if (--r.outstanding == 0)
    r.done(r.targets, r.results);
}

/// Sends one request per target tier, made by `send(tier, index)`, and calls
/// `done(targets, results)` once every tier answered or timed out.
template <class Reply, class Send, class Done>
void fan_out(coordinator_ptr self, std::vector<size_t> targets, Send send, Done done) {
  using round = fan_out_round<Reply, Done>;
  auto n = targets.size();
  auto r = std::make_shared<round>(round{std::move(targets),
                                         std::vector<caf::expected<Reply>>(n, caf::error{}),
                                         std::vector<bool>(n, false), n, std::move(done)});
  if (n == 0) {
    r->done(r->targets, r->results);
    return;
  }
  bool swept = false;
  for (size_t k = 0; k < n; ++k) {
    auto& tier = (*self->state.tiers)[r->targets[k]];
    swept = swept || tier.answers_in_time;
    send(tier.handle, r->targets[k])
        .then([=](Reply& x) { settle<Reply, Done>(self, *r, k, std::move(x)); },
              [=](caf::error& err) { settle<Reply, Done>(self, *r, k, std::move(err)); });
  }
  if (!swept)
    return;
  // Weak: the round lives as long as a tier may still answer, not until its deadline.
  std::weak_ptr<round> alive = r;
  watch_deadline(self, alive, [self, alive] {
    if (auto r = alive.lock())
      for (size_t k = 0; k < r->answered.size(); ++k)
        settle<Reply, Done>(self, *r, k, tier_timeout_error(self->state));
  });
}

/// Sends the same command to every target tier; `done` gets the write_ack.
template <class Reply, class Done, class... Ts>
void command_tiers(coordinator_ptr self, std::vector<size_t> targets, Done done, Ts... xs) {
  fan_out<Reply>(
      self, std::move(targets),
      [=](const tier_actor& tier, size_t i) {
        return self->request(tier, tier_wait(self->state, i), xs...);
      },
      [=](const std::vector<size_t>& targets, std::vector<caf::expected<Reply>>& results) mutable {
        done(to_ack(self->state, targets, results));
      });
}

/// Writes `value` into `targets`, each with `base` scaled by its ttl_scale.
template <class Done>
void write_tiers(coordinator_ptr self, std::vector<size_t> targets, const std::string& key,
                 const bytes& value, caf::timespan base, Done done) {
  fan_out<ok_atom>(
      self, std::move(targets),
      [=](const tier_actor& tier, size_t i) {
        auto ttl = (*self->state.tiers)[i].cfg.scale(base);
        return self->request(tier, tier_wait(self->state, i), put_atom::value, key, value,
                             caf::timespan{ttl});
      },
      [=](const std::vector<size_t>& targets,
          std::vector<caf::expected<ok_atom>>& results) mutable {
        done(to_ack(self->state, targets, results));
      });
}

/// Removes every key `pattern` matches from `targets`; `done` gets the total or, when every
/// tier failed, the first error.
template <class Done>
void remove_matching(coordinator_ptr self, std::vector<size_t> targets, const std::string& pattern,
                     Done done) {
  fan_out<uint64_t>(
      self, std::move(targets),
      [=](const tier_actor& tier, size_t) {
        return self->request(tier, self->state.opts.tier_timeout, delete_atom::value,
                             match_atom::value, pattern);
      },
      [=](const std::vector<size_t>&, std::vector<caf::expected<uint64_t>>& results) mutable {
        uint64_t removed = 0;
        caf::error first_error;
        size_t failures = 0;
        for (auto& r : results) {
          if (r)
            removed += *r;
          else if (++failures == 1)
            first_error = r.error();
        }
        if (failures > 0 && failures == results.size())
          done(caf::expected<uint64_t>{std::move(first_error)});
        else
          done(caf::expected<uint64_t>{removed});
      });
}

} // namespace mtcache::detail

namespace mtcache::detail {

// Write paths (actors/coordinator_writes.cpp). Every change supersedes the flights of the
// keys it touches before it writes, so a fill already under way cannot bring back an older
// value; `broadcast` also sends the change to other nodes once this node applied it.

caf::result<write_ack> set_value(coordinator_ptr self, const std::string& key, bytes value,
                                 caf::timespan ttl, bool broadcast);

/// Sends the queued sets, one batch per tier.
void flush_writes(coordinator_ptr self);

/// Answers the queued sets and reads with `reason` (the coordinator exits).
void fail_queued(coordinator_ptr self, const caf::error& reason);

caf::result<write_ack> remove_key(coordinator_ptr self, const std::string& key, bool broadcast);

caf::result<write_ack> remove_keys(coordinator_ptr self, std::vector<std::string> keys,
                                   bool broadcast);

caf::result<uint64_t> remove_pattern(coordinator_ptr self, const std::string& pattern,
                                     bool broadcast);

/// Drops a value that did not decode from every tier (counted as decode_failed).
caf::result<ok_atom> drop_corrupt(coordinator_ptr self, const std::string& key);

/// A change from another node: applied to the local tiers only, keeping their ttl_scale.
caf::result<ok_atom> apply_remote(coordinator_ptr self, invalidation change);

/// Contact with other nodes was lost and is back: drops every entry of the local tiers.
caf::result<uint64_t> recover(coordinator_ptr self);

} // namespace mtcache::detail
