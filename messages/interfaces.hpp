#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/message.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "mtcache/messages/atoms.hpp"
#include "mtcache/messages/bulk.hpp"
#include "mtcache/messages/bytes.hpp"
#include "mtcache/messages/invalidation.hpp"
#include "mtcache/messages/lookup.hpp"
#include "mtcache/messages/stats.hpp"
#include "mtcache/messages/strategy.hpp"

namespace mtcache {

using stale_atom = caf::atom_constant<caf::atom("stale")>;
using insync_atom = caf::atom_constant<caf::atom("insync")>;
using tierstats_atom = caf::atom_constant<caf::atom("tierstats")>;

/// Continues a read that missed in the first tier. The tier delegates the original request
/// here, so whoever receives it answers the original requester. The flag says whether the
/// tier failed (an error counts as a miss); the message is the context the reader gave the
/// tier, passed through untouched.
using miss_route =
    caf::typed_actor<caf::replies_to<miss_atom, std::string, bool, caf::message>::with<lookup>>;

/// A tier of the cache. Any actor that speaks this interface can be a tier; TTLs of zero or
/// less mean "never expires". Counts in replies are numbers of keys removed.
using tier_actor = caf::typed_actor<
    // Read a key.
    caf::replies_to<get_atom, std::string>::with<lookup>,
    // Read a key; on a miss (or failure) delegate (miss, key, failed, context) to the route
    // instead of answering, so the route answers the original requester.
    caf::replies_to<get_atom, std::string, miss_route, caf::message>::with<lookup>,
    // Read a value that expired but is kept for fail-safe; tiers that keep none answer a miss.
    caf::replies_to<get_atom, stale_atom, std::string>::with<lookup>,
    caf::replies_to<put_atom, std::string, bytes, caf::timespan>::with<ok_atom>,
    caf::replies_to<delete_atom, std::string>::with<uint64_t>,
    caf::replies_to<delete_atom, std::vector<std::string>>::with<uint64_t>,
    // Remove every key matching a Redis MATCH glob.
    caf::replies_to<delete_atom, match_atom, std::string>::with<uint64_t>,
    caf::replies_to<clear_atom>::with<uint64_t>,
    caf::replies_to<exists_atom, std::string>::with<bool>,
    caf::replies_to<stats_atom>::with<tier_stats>, caf::replies_to<health_atom>::with<tier_health>>;

/// A tier that also takes batches, as the built-in tiers do: the coordinator sends the sets
/// (and, to a Redis first tier, the reads) it receives back to back as one message. The
/// answer to writes has one entry per write, in order: an empty error where it succeeded.
using batch_tier_actor = tier_actor::extend<
    caf::replies_to<get_atom, std::vector<std::string>>::with<read_batch>,
    caf::replies_to<put_atom, std::vector<tier_write>>::with<std::vector<caf::error>>>;

/// Produces the value of a key on a full miss (`get_or_compute`). Answer with an error to
/// fail the load; every waiter receives that error and nothing is cached.
using loader_actor = caf::typed_actor<caf::replies_to<load_atom, std::string>::with<bytes>>;

/// As `loader_actor`, for a loader that also chooses how long each value lives.
using ttl_loader_actor = caf::typed_actor<caf::replies_to<load_atom, std::string>::with<loaded>>;

/// Produces the values of many keys in one call (`get_or_compute_many`, as Caffeine's
/// loadAll): one entry per key asked, in order. An error, or a count other than the keys',
/// fails every key of the call; an entry's own error fails that key alone.
using bulk_loader_actor = caf::typed_actor<
    caf::replies_to<load_atom, std::vector<std::string>>::with<std::vector<bulk_entry>>>;

/// What a node exposes to other CAF nodes: its peer inbox, published on a port. It passes
/// changes and link-ups on to the node's bridge and loads to its coordinator, which
/// themselves are never exposed.
using peer_inbox_actor = caf::typed_actor<
    // A change another node made.
    caf::reacts_to<apply_atom, invalidation>,
    // Another node's inbox links up (links carry changes both ways). The answer comes once
    // this node sends its changes there too: only then does the linking node count the link
    // as up, so no change made here after that can miss it.
    caf::replies_to<join_atom, caf::actor>::with<ok_atom>,
    // A get_or_compute that missed every tier of another node, whose flight hands it to this
    // node as the key's owner: served here (joining the key's flight, loading once with the
    // first loader any waiter brought) and never handed on. Exactly one loader is valid.
    caf::replies_to<compute_atom, std::string, compute_options, loader_actor,
                    ttl_loader_actor>::with<lookup>>;

/// A node's invalidation bridge: the only actor that talks to other nodes' caches.
using bridge_actor = caf::typed_actor<
    // A change this node made (applied already): stamp it and send it on every path.
    caf::reacts_to<caf::publish_atom, invalidation>,
    // A change from another node, over a CAF link (via the inbox).
    caf::reacts_to<apply_atom, invalidation>,
    // A raw Pub/Sub payload, from this node's Redis subscriber.
    caf::reacts_to<apply_atom, std::string>,
    // Another node's inbox links up; answered once changes go there.
    caf::replies_to<join_atom, caf::actor>::with<ok_atom>,

    // The Redis subscription is up (true) or lost (false); the flag after it says the
    // subscription came back after a loss, so the recovery policy must run.
    caf::reacts_to<caf::subscribe_atom, bool, bool>,
    // Whether this node has applied every change of other nodes it knows of: subscribed,
    // no replay running, no gap open (true without Redis invalidation).
    caf::replies_to<insync_atom>::with<bool>, caf::replies_to<stats_atom>::with<bridge_stats>>;

/// The cache as its users see it. It answers every request within its own deadlines
/// (tier_timeout, the Redis request_timeout, load_timeout); gets are passed on to the first
/// tier, so a first tier of your own must answer.
using cache_actor = caf::typed_actor<
    caf::replies_to<get_atom, std::string>::with<lookup>,
    // Write every tier (TTL x ttl_scale); fails only if every tier failed.
    caf::replies_to<put_atom, std::string, bytes, strategy>::with<write_ack>,
    // Remove a key from every tier of this node.
    caf::replies_to<delete_atom, std::string>::with<write_ack>,
    // Remove every key matching a glob from every tier of this node.
    caf::replies_to<delete_atom, match_atom, std::string>::with<uint64_t>,
    // Read, or load once per key on a full miss and fill every tier.
    caf::replies_to<compute_atom, std::string, compute_options, loader_actor>::with<lookup>,
    // As above, with a loader that chooses the TTL of what it loads.
    caf::replies_to<compute_atom, std::string, compute_options, ttl_loader_actor>::with<lookup>,
    // Read many keys in one pass over the tiers (one batched read per tier); answers in order.
    caf::replies_to<get_atom, std::vector<std::string>>::with<bulk_lookup>,
    // As above, loading every key no tier has with one call of the bulk loader; keys whose
    // flight runs already join it, and the keys it loads are flights others can join.
    caf::replies_to<compute_atom, std::vector<std::string>, compute_options,
                    bulk_loader_actor>::with<bulk_lookup>,
    // Report that the value under a key did not decode: the cache counts it and drops the key
    // from every tier of this node, so the next read misses instead of failing again.
    caf::replies_to<corrupt_atom, std::string>::with<ok_atom>,
    // Cross-node invalidation: apply to every tier of this node (shared ones once), then tell
    // the other nodes, which apply to their local tiers only. Without invalidation configured
    // these still apply locally.
    caf::replies_to<invalidate_atom, std::string>::with<write_ack>,
    caf::replies_to<invalidate_atom, std::vector<std::string>>::with<write_ack>,
    caf::replies_to<invalidate_atom, match_atom, std::string>::with<uint64_t>,
    // Write every tier with this TTL (x ttl_scale) and push the value into other nodes' tiers.
    caf::replies_to<update_atom, std::string, bytes, caf::timespan>::with<write_ack>,
    // set, then push the value to other nodes (set_with_broadcast).
    caf::replies_to<put_atom, std::string, bytes, strategy, broadcast_atom>::with<write_ack>,
    // Write every tier with tags (at most 64, each 1 to 512 bytes): `remove_by_tag` of any of
    // them removes the value. Reads hand the tags back in `lookup::tags`.
    caf::replies_to<put_atom, std::string, bytes, strategy,
                    std::vector<std::string>>::with<write_ack>,
    // Remove every value written with a tag before now, on every tier of every node: the time
    // goes into each shared tier (so restarted nodes honour it) and to the other nodes.
    caf::replies_to<invalidate_atom, tag_atom, std::string>::with<write_ack>,
    // Remove everything: every tier of this node, then the local tiers of every other node.
    caf::replies_to<clear_atom>::with<write_ack>, caf::replies_to<stats_atom>::with<cache_stats>,
    caf::replies_to<stats_atom, invalidate_atom>::with<bridge_stats>,
    caf::replies_to<tierstats_atom>::with<std::vector<tier_stats>>,
    caf::replies_to<health_atom>::with<health_report>>;

} // namespace mtcache
