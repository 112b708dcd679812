#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "messages/config.hpp"
#include "messages/interfaces.hpp"

namespace mtcache {

// Internal vocabulary between the coordinator and its flights. Users never see these
// handles: the coordinator's public face is `cache_actor`.

/// A tier as the coordinator and its flights hold it: the handle and where it sits.
struct chain_tier {
  tier_actor handle;
  tier_config cfg;
};

using tier_chain = std::vector<chain_tier>;

/// One short-lived actor per key being looked up or loaded. Joining it makes the caller a
/// waiter; the flight answers every waiter once the outcome is known.
using flight_actor = caf::typed_actor<
    // A plain get that missed the first tier.
    caf::replies_to<join_atom>::with<lookup>,
    // A get_or_compute: waits for the value, loading it with `loader` if no tier has it.
    caf::replies_to<join_atom, compute_options, loader_actor>::with<lookup>,
    // A soft-timeout timer of the load with the given sequence number fired.
    caf::reacts_to<caf::timeout_atom, uint64_t>>;

/// A value a flight asks the coordinator to write: a loaded value goes to every tier, a
/// value found in tier `source` is promoted into the tiers above it.
struct fill_request {
  bytes value;
  /// Remaining TTL of a found value, or the strategy TTL of a loaded one; -1: no expiry.
  int64_t ttl_ms = -1;
  /// Index of the tier the value was found in (ignored when `loaded`).
  uint32_t source = 0;
  bool loaded = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, fill_request& x) {
  return f(caf::meta::type_name("mtcache::fill_request"), x.value, x.ttl_ms, x.source, x.loaded);
}

/// How a flight answered its waiters, so the coordinator's counters stay exact.
struct flight_report {
  /// Waiters answered with a value found in tier i.
  std::vector<uint64_t> tier_hits;
  /// Waiters answered "not found", or with a value the loader produced.
  uint64_t misses = 0;
  /// Waiters answered with an error.
  uint64_t failed = 0;
  uint64_t loads = 0;
  uint64_t load_errors = 0;
  uint64_t load_timeouts = 0;
  uint64_t tier_errors = 0;
  uint64_t stale_served = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, flight_report& x) {
  return f(caf::meta::type_name("mtcache::flight_report"), x.tier_hits, x.misses, x.failed, x.loads,
           x.load_errors, x.load_timeouts, x.tier_errors, x.stale_served);
}

/// The coordinator as its flights and tiers see it.
using coordinator_actor = cache_actor::extend_with<miss_route>::extend<
    // Write a flight's value unless the key changed since the flight started; answers
    // whether it wrote, after the tiers acknowledged.
    caf::replies_to<fill_atom, std::string, uint64_t, fill_request>::with<bool>,
    // A flight is finished; the coordinator forgets it and answers when the flight may exit.
    caf::replies_to<done_atom, std::string, uint64_t, flight_report>::with<ok_atom>,
    // A get_or_compute a finishing flight could not serve, routed back without recounting.
    caf::replies_to<compute_atom, std::string, compute_options, loader_actor,
                    retry_atom>::with<lookup>,
    // Waiters a flight answered after it reported done.
    caf::reacts_to<done_atom, flight_report>>;

} // namespace mtcache
