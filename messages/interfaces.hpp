#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/message.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/bytes.hpp"
#include "messages/lookup.hpp"
#include "messages/stats.hpp"
#include "messages/strategy.hpp"

namespace mtcache {

using stale_atom = caf::atom_constant<caf::atom("stale")>;
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

/// Produces the value of a key on a full miss (`get_or_compute`). Answer with an error to
/// fail the load; every waiter receives that error and nothing is cached.
using loader_actor = caf::typed_actor<caf::replies_to<load_atom, std::string>::with<bytes>>;

/// The cache as its users see it. Every request should carry a finite timeout.
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
    // Report that the value under a key did not decode: the cache counts it and drops the key
    // from every tier of this node, so the next read misses instead of failing again.
    caf::replies_to<corrupt_atom, std::string>::with<ok_atom>,
    caf::replies_to<stats_atom>::with<cache_stats>,
    caf::replies_to<tierstats_atom>::with<std::vector<tier_stats>>,
    caf::replies_to<health_atom>::with<health_report>>;

} // namespace mtcache
