#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "mtcache/messages/detail/flight_protocol.hpp"

namespace mtcache::detail {

struct fleet_members;
class tag_clock;

/// What a flight needs to know; the coordinator fills it in.
struct flight_params {
  std::string key;
  /// Tells this flight apart from earlier and later flights of the same key.
  uint64_t id = 0;
  std::shared_ptr<const tier_chain> tiers;
  /// Where the walk starts: 1 after a plain get missed the first tier, 0 for
  /// get_or_compute (the first tier may have been filled since the caller looked).
  uint32_t first_tier = 0;
  std::chrono::milliseconds tier_timeout{1000};
  std::chrono::milliseconds load_timeout{10000};
  size_t max_value_bytes = 0;
  /// Fail-safe for every load, not only those that ask for it.
  bool fail_safe = false;
  /// Seed of the promotion draws.
  uint64_t seed = 0;
  /// An eager refresh: the tiers hold a value nearing its TTL, so the flight loads at once
  /// with `loader` and `options`, without walking the tiers and without a waiter.
  bool refresh = false;
  /// A key of a bulk pass: the pass reads the tiers below the first and loads (with `loader`
  /// and `options`, if valid), then tells the flight what it found, which it fills and answers.
  bool bulk = false;
  compute_options options;
  loader_ref loader;
  /// With peers: the load goes to the key's owner node if that is not this one, and runs
  /// here only if the owner cannot answer within `fleet_owner_wait` (zero: the load's
  /// timeout plus tier_timeout). Null: the load runs here.
  std::shared_ptr<const fleet_members> fleet;
  std::chrono::milliseconds fleet_owner_wait{0};
  /// When tags were removed: values read from the tiers are checked against it.
  std::shared_ptr<tag_clock> tags;
  /// Without a fleet: nonzero takes the key's load lease for this long (bounded by the
  /// load's timeout) on the first tier that holds leases before loading, and waits for the
  /// value there while another node holds it (flight_lease.cpp). Zero: no lease.
  std::chrono::milliseconds lease_time{0};
};

/// Spawns the flight of one key for `coordinator` (the spawning actor), which must speak
/// `coordinator_actor` and send the flight an exit message when it exits itself. The flight walks
/// the tiers below the first, then loads once if a waiter brought a loader, asks the coordinator to
/// write the value (which it refuses if the key changed meanwhile), answers every waiter and exits
/// once the coordinator has forgotten it, so no request for its key can reach a dead flight.
/// An eager refresh starts with the load; a failed one leaves the tiers as they were. A flight
/// of a bulk pass waits for the pass's outcome instead of walking. With a fleet, the key's
/// owner node loads instead and the flight writes its answer into the local tiers (the owner
/// wrote the shared ones). Without one, with a lease time, the flight loads only while it
/// holds the key's lease on the Redis tier, and else waits for the holder's value there.
flight_actor spawn_flight(caf::local_actor* coordinator, flight_params params);

} // namespace mtcache::detail
