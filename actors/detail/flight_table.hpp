#pragma once

// The coordinator's running flights, at most one per key. A flight is marked superseded when
// its key changes after it started: the value it loads is then older than what the tiers
// hold, so its fill is refused (CacheLib's tombstone, as a flag), and new requests for the key
// no longer join it. The entry stays until the flight reports done, so that a flight that
// still runs is never replaced by a second one for the same key.
// An eager refresh is a flight too (the one load of its key), but the tiers still hold the
// value it replaces: requests for its key read them instead of joining it, and only those
// that miss there wait for it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

#include "mtcache/codec/detail/glob.hpp"
#include "mtcache/messages/detail/flight_protocol.hpp"

namespace mtcache::detail {

class flight_table {
public:
  /// The flight of `key`, started by `spawn(id)` if none runs; `id` tells it apart from
  /// earlier and later flights of the key. `refresh` marks a new flight as an eager refresh.
  template <class Spawn>
  flight_actor spawn_if_absent(const std::string& key, Spawn&& spawn, bool refresh = false) {
    auto i = flights_.find(key);
    if (i != flights_.end()) {
      ++joins_;
      return i->second.handle;
    }
    auto id = ++last_id_;
    auto handle = spawn(id);
    flights_.emplace(key, entry{handle, id, false, refresh});
    return handle;
  }

  /// Whether any flight of `key` runs, superseded or not.
  bool running(const std::string& key) const { return flights_.count(key) > 0; }

  /// Marks the flight of `key` (or of every key `pattern` matches, or every flight) as
  /// superseded: its value is older than a change made since.
  void supersede(const std::string& key);
  void supersede(const glob& pattern);
  void supersede_all();

  /// The flight of `key` if one runs and its value is still current, else nullptr.
  const flight_actor* live(const std::string& key) const;

  /// As `live`, for a request that joins the flight: counted in `joins`. Not an eager
  /// refresh: the tiers still hold the value it replaces.
  const flight_actor* join(const std::string& key);

  /// Whether flight `id` of `key` runs and was not superseded: its fill may land.
  bool current(const std::string& key, uint64_t id) const;

  /// Forgets flight `id` of `key`; a later flight of the key stays. True if it was there.
  bool forget(const std::string& key, uint64_t id);

  /// Calls `f(handle)` for every running flight.
  template <class F>
  void for_each(F&& f) const {
    for (auto& kv : flights_)
      f(kv.second.handle);
  }

  size_t size() const { return flights_.size(); }

  /// Flights spawned so far.
  uint64_t started() const { return last_id_; }

  /// Requests that found their key's flight running and joined it.
  uint64_t joins() const { return joins_; }

private:
  struct entry {
    flight_actor handle;
    uint64_t id;
    bool superseded;
    bool refresh;
  };

  std::unordered_map<std::string, entry> flights_;
  uint64_t last_id_ = 0;
  uint64_t joins_ = 0;
};

} // namespace mtcache::detail
