#pragma once

// The coordinator's state and the operations its handlers share, split by idea over
// coordinator_reads.cpp, coordinator_writes.cpp, coordinator_remote.cpp and
// coordinator_status.cpp (see the essay atop coordinator.cpp). Private to the coordinator.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/duration.hpp>
#include <caf/expected.hpp>
#include <caf/result.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/actors/detail/clock.hpp"
#include "mtcache/actors/detail/deadline_sweep.hpp"
#include "mtcache/actors/detail/fleet_members.hpp"
#include "mtcache/actors/detail/flight.hpp"
#include "mtcache/actors/detail/flight_table.hpp"
#include "mtcache/actors/detail/recent_writes.hpp"
#include "mtcache/actors/detail/repair_table.hpp"
#include "mtcache/actors/detail/tier_outbox.hpp"
#include "mtcache/codec/detail/glob.hpp"
#include "mtcache/messages/config.hpp"
#include "mtcache/messages/detail/flight_protocol.hpp"
#include "mtcache/store/tag_clock.hpp"

namespace mtcache::detail {

/// A get_many or get_or_compute_many under way (coordinator_bulk.cpp).
struct bulk_pass;

struct coordinator_state {
  /// The tiers, nearest first; the flights share them.
  std::shared_ptr<const tier_chain> tiers;
  cache_options opts;
  flight_table flights;
  /// TTLs (ms, -1 for none) that loaders chose for keys, where they differ from the call's:
  /// what eager refresh measures its share against. At most `max_chosen_ttls` keys.
  std::unordered_map<std::string, int64_t> chosen_ttls;
  static constexpr size_t max_chosen_ttls = 65536;
  /// Deadlines of requests to tiers that answer in time.
  deadline_sweep sweep;
  /// What goes to the tiers, in order, with the requests queued for batching.
  tier_outbox outbox;
  cache_stats stats;
  // First-tier hits are answered by the tier; they are the reads sent there minus the
  // misses that came back.
  uint64_t fast_gets = 0;
  uint64_t first_tier_misses = 0;
  /// Seeds the flights' promotion draws.
  std::mt19937_64 rng;
  /// Where changes go to reach other nodes; invalid without invalidation configured.
  bridge_actor bridge;
  /// Changes that failed on a shared tier, to re-apply once it is back.
  repair_table repairs;
  /// Keys this node set lately (kept only with a bridge and a shared tier): another node's
  /// update of one of them may have raced ours there, so it is applied as a removal.
  recent_writes written;
  /// The peers this node is linked with, for fleet-wide flights; null without any (or with
  /// `fleet_flights` off).
  std::shared_ptr<const fleet_members> fleet;
  bool has_shared_tier = false;
  /// When tags were removed, shared with the flights, the first tier and its read view.
  std::shared_ptr<tag_clock> tags;
  bool repairing = false;
  bool repair_scheduled = false;
  /// Bulk passes under way by id, answered with an error if the coordinator exits first.
  std::unordered_map<uint64_t, std::shared_ptr<bulk_pass>> passes;
  uint64_t last_pass = 0;

  static inline const char* name = "mtcache.coordinator";
};

using coordinator_ptr = coordinator_actor::stateful_pointer<coordinator_state>;

// Input checks and the tier chain (coordinator_state.cpp).

caf::error check_key(const coordinator_state& st, const std::string& key);

caf::error check_value(const coordinator_state& st, const bytes& value);

/// A valid pattern, compiled; refuses match-all patterns unless the options allow them.
caf::expected<glob> check_pattern(const coordinator_state& st, const std::string& pattern);

std::vector<size_t> all_tiers(const coordinator_state& st);

/// The tiers that belong to this node alone (what received changes and recovery touch).
std::vector<size_t> local_tiers(const coordinator_state& st);

/// How long a request to tier `i` waits in CAF: not at all for a tier that answers in time
/// (the coordinator's sweep holds it to tier_timeout), tier_timeout otherwise.
caf::duration tier_wait(const coordinator_state& st, size_t i);

caf::error tier_timeout_error(const coordinator_state& st);

// Reads (coordinator_reads.cpp): a first-tier hit is answered by the tier, a miss goes on to
// the key's flight.

caf::result<lookup> get_value(coordinator_ptr self, const std::string& key);

/// The flight of `key`, spawned with `preset` (or default parameters) if none runs; it walks
/// the tiers from `first_tier` on, loads at once as an eager refresh, or waits for a bulk pass.
/// Its load goes to the key's owner node when there are peers, unless `route` is false (the
/// request came from another node already) or it refreshes.
flight_actor flight_for(coordinator_ptr self, const std::string& key, uint32_t first_tier,
                        const flight_params* preset = nullptr, bool route = true);

/// Whether a value the tiers answered for `key` is past the share of its TTL at which `opts`
/// refreshes it (eager refresh).
bool due_for_refresh(const coordinator_state& st, const std::string& key, const lookup& res,
                     const compute_options& opts);

/// Which of the `n` reads of a batch failed: all if the batch did, else those it lists or
/// left out.
std::vector<bool> failed_reads(const caf::expected<read_batch>& answer, size_t n);

/// Keeps the TTL a flight's loader chose for `key` (or forgets it when the load took the
/// call's), for eager refresh to measure against.
void remember_ttl(coordinator_state& st, const std::string& key, const flight_report& report);

/// A get_or_compute; `retry` for one a finishing flight routed back (counted already);
/// `route` false keeps its load on this node (see `flight_for`).
caf::result<lookup> get_or_compute(coordinator_ptr self, const std::string& key,
                                   compute_options opts, loader_ref loader, bool retry,
                                   bool route = true);

/// A get_or_compute another node handed to this one as the key's owner: as a local one, but
/// its flight loads here whatever this node thinks of the owner, and the asking node
/// refreshes for itself.
caf::result<lookup> serve_for_peer(coordinator_ptr self, const std::string& key,
                                   compute_options opts, loader_ref loader);

/// A read the first tier passed back: it had no value, or (`failed`) no answer.
caf::result<lookup> after_miss(coordinator_ptr self, const std::string& key, bool failed,
                               const caf::message& context);

/// Sends a batch of reads to the first tier and answers each read when it comes back.
void send_read_batch(coordinator_ptr self, std::shared_ptr<std::vector<queued_read>> batch,
                     batch_queue<queued_read>::completion done);

// Reads of many keys (coordinator_bulk.cpp): one pass over the tiers, one batched read per
// tier, the keys no tier has loaded with one call of a bulk loader, each key through a flight.

caf::result<bulk_lookup> get_many(coordinator_ptr self, const std::vector<std::string>& keys);

caf::result<bulk_lookup> get_or_compute_many(coordinator_ptr self,
                                             const std::vector<std::string>& keys,
                                             compute_options opts, bulk_loader_actor loader);

/// Answers every bulk pass under way with `reason` (the coordinator exits).
void fail_bulk_passes(coordinator_state& st, const caf::error& reason);

// Writes and removals (coordinator_writes.cpp). Every change supersedes the flights of the
// keys it touches before it writes, so a fill already under way cannot bring back an older
// value; `broadcast` also sends the change to other nodes once this node applied it.

/// Sends `change` to other nodes, if this node has a bridge.
void publish(coordinator_ptr self, invalidation change);

caf::result<write_ack> set_value(coordinator_ptr self, const std::string& key, bytes value,
                                 caf::timespan ttl, bool broadcast);

/// Sends a batch of sets to every tier and answers each set when all tiers came back.
void send_write_batch(coordinator_ptr self, std::shared_ptr<std::vector<queued_write>> batch,
                      batch_queue<queued_write>::completion done);

/// A flight's value for tier `tier`, unless the key changed since flight `id` started.
caf::result<ok_atom> fill(coordinator_ptr self, const std::string& key, uint64_t id, uint32_t tier,
                          bytes value, caf::timespan ttl);

caf::result<write_ack> remove_key(coordinator_ptr self, const std::string& key, bool broadcast);

caf::result<write_ack> remove_keys(coordinator_ptr self, std::vector<std::string> keys,
                                   bool broadcast);

caf::result<uint64_t> remove_pattern(coordinator_ptr self, const std::string& pattern,
                                     bool broadcast);

/// Drops a value that did not decode from every tier (counted as decode_failed).
caf::result<ok_atom> drop_corrupt(coordinator_ptr self, const std::string& key);

// Other nodes (coordinator_remote.cpp).

/// A change from another node: applied to the local tiers only, keeping their ttl_scale.
caf::result<ok_atom> apply_remote(coordinator_ptr self, invalidation change);

/// The peers this node is linked with now, for the flights that start from here on.
void set_fleet(coordinator_ptr self, const std::vector<peer_inbox_actor>& peers);

/// Contact with other nodes was lost and is back: drops every entry of the local tiers.
caf::result<uint64_t> recover(coordinator_ptr self);

/// Counts into `invalidated` what each local tier (`targets`, chain indices) dropped.
void count_invalidated(coordinator_state& st, const std::vector<size_t>& targets,
                       const std::vector<caf::expected<uint64_t>>& removed);

/// Keys Redis tracking invalidated: removed from the local tiers, reads of them under way
/// kept out of them. Answers how many such reads raced the change.
caf::result<uint64_t> apply_tracked(coordinator_ptr self, std::vector<std::string> keys);

// Repairs of shared tiers (coordinator_repair.cpp): what a write or removal did there is
// noted; what failed is re-applied once the tier is back and this node has caught up.

void note_write(coordinator_ptr self, const std::string& key, const bytes& value, caf::timespan ttl,
                const write_ack& ack);

void note_removal(coordinator_ptr self, const std::vector<std::string>& keys, const write_ack& ack);

/// A pattern removal failed on the tiers `failed` (indices).
void note_pattern(coordinator_ptr self, const std::string& pattern,
                  const std::vector<size_t>& failed);

/// Other nodes changed `keys` at `changed_ms` (Unix time; 0 if the change does not say):
/// held changes made before are moot, and a repair that raced the change is undone by
/// removing the key.
void note_remote(coordinator_ptr self, const std::vector<std::string>& keys, int64_t changed_ms);

/// The repair message: sends held changes to their tier once this node is in sync.
void run_repairs(coordinator_ptr self);

// Tags and clear (coordinator_tags.cpp).

/// `value` as a tier keeps it when written without tags (see codec/tagged_value.hpp).
bytes untagged(bytes value);

caf::result<write_ack> set_tagged(coordinator_ptr self, const std::string& key, const bytes& value,
                                  caf::timespan ttl, const std::vector<std::string>& tags);

/// Removes every value written with `tag` until now, here and (through the bridge) elsewhere.
caf::result<write_ack> remove_tag(coordinator_ptr self, const std::string& tag);

/// Clears every tier of this node, then the local tiers of the other nodes.
caf::result<write_ack> clear_all(coordinator_ptr self);

/// Another node removed a tag, or cleared the cache.
void apply_tag_removal(coordinator_ptr self, const invalidation& change);
void apply_clear(coordinator_ptr self, caf::typed_response_promise<ok_atom> rp);

/// Values a batch read of the first tier answered as it keeps them, checked for their tags
/// (tags this node never met looked up in the shared tier first, once for the whole batch):
/// `then(results)` gets what callers get, a miss for a value a tag removal hid.
void admit_batch(coordinator_ptr self, std::vector<lookup> results,
                 std::function<void(std::vector<lookup>&)> then);

/// A value the first tier answered as it keeps it (a batch read, or a first tier without a
/// read view): handed out once its tags are checked, else on to the key's flight as a miss.
void deliver_first_tier(coordinator_ptr self, const std::string& key, lookup res, bool failed,
                        const caf::message& context, caf::typed_response_promise<lookup> rp);

// Stats and health (coordinator_status.cpp).

/// The counters as callers see them, first-tier hits included.
cache_stats current_stats(const coordinator_state& st);

/// Adds what a flight reported to the counters.
void merge(cache_stats& into, const flight_report& report);

caf::result<std::vector<tier_stats>> collect_tier_stats(coordinator_ptr self);

caf::result<health_report> collect_health(coordinator_ptr self);

} // namespace mtcache::detail
