#pragma once

// A flight's state and the steps its handlers share, split over flight.cpp (waiters, the
// walk through the tiers, fills and answers), flight_load.cpp (loads and their failures),
// flight_fleet.cpp (loads handed to the key's owner node) and flight_lease.cpp (loads under
// the key's lease on the Redis tier, without a fleet).
// Private to the flight.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/actor_clock.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "mtcache/actors/detail/fleet_members.hpp"
#include "mtcache/actors/detail/flight.hpp"
#include "mtcache/actors/detail/tag_filter.hpp"

namespace mtcache::detail::flight_steps {

using promise = caf::typed_response_promise<lookup>;

struct flight_state {
  enum class phase : uint8_t { walking, loading, finishing };

  flight_params p;
  coordinator_actor coordinator;
  phase ph = phase::walking;
  std::vector<promise> gets;
  std::vector<promise> computes;
  loader_ref loader;
  compute_options opts;
  bool has_loader = false;
  // The outcome, kept while finishing for waiters that arrive late.
  bool has_value = false;
  lookup value;
  // Tier index the value came from; `tiers.size()` for a loaded value.
  size_t value_source = 0;
  // An expired value served by fail-safe after the soft timeout, while the load goes on.
  bool serving_stale = false;
  lookup stale;
  uint64_t load_seq = 0;
  caf::actor_clock::time_point load_started;
  // The load was a bulk pass's: the coordinator counts that one call, not each key's flight.
  bool pass_load = false;
  // Fleet-wide flights: the members the owner is chosen from (an owner that could not serve
  // the load leaves them), the owner asked while it may answer, and the relay it loads
  // through.
  std::shared_ptr<const fleet_members> members;
  bool waiting_owner = false;
  caf::actor_addr owner;
  loader_ref relay;
  // A loader a waiter of this node brought, and the other node's loader the load runs with
  // (a relay that came with a request handed here), watched: if that node goes, the load
  // moves to this node's loader.
  loader_ref local_loader;
  caf::actor_addr remote_loader;
  // Load leases (flight_lease.cpp): the tier that holds them, whether this flight holds the
  // key's lease (under its token) or waits for the holder's value (until the deadline,
  // looking again after the backoff).
  size_t lease_tier = 0;
  bool lease_held = false;
  bool lease_waiting = false;
  std::string lease_token;
  caf::actor_clock::time_point lease_deadline;
  std::chrono::milliseconds lease_backoff{0};
  // Promotion draws, seeded by the coordinator so that tests are repeatable.
  std::minstd_rand rng;
  flight_report report;

  static inline const char* name = "mtcache.flight";
};

using self_ptr = flight_actor::stateful_pointer<flight_state>;

// Waiters, fills and answers (flight.cpp).

/// Counts `n` answered waiters as hits of the value's source, or as misses for a loaded one.
void count_answered(flight_state& st, flight_report& into, size_t n);

void answer_all(std::vector<promise>& waiters, const lookup& res);

void fail_all(std::vector<promise>& waiters, const caf::error& err);

/// Reports to the coordinator, which lets the flight exit once it forgot it.
void finish(self_ptr self);

/// Keeps the outcome for late waiters, reports and answers every waiter with it.
void finish_with_value(self_ptr self, lookup res, size_t source);

/// Writes a value into the tiers it goes to (all for a loaded one, `source == tiers.size()`),
/// then answers everyone with it.
void fill_then_answer(self_ptr self, lookup res, size_t source);

/// Writes a value the key's owner node answered into this node's tiers above the first
/// shared one (the owner wrote those), then answers everyone with it.
void fill_local_then_answer(self_ptr self, lookup res);

/// Reads the tiers from `i` on; past the last, answers the gets and loads if a waiter
/// brought a loader.
void walk(self_ptr self, size_t i);

// Counts one answer that the flight's own report no longer covers (it went out, or the
// waiter is answered before it goes out), telling the coordinator before the answer goes
// out: a caller that then asks for stats sees it counted.
template <class Count>
void report_one(self_ptr self, Count count) {
  auto& st = self->state;
  flight_report one;
  one.tier_hits.resize(st.p.tiers->size());
  count(one);
  self->send(st.coordinator, done_atom::value, std::move(one));
}

// Asks the first tier for an expired value kept for fail-safe; `then` gets it or a miss.
template <class F>
void fetch_stale(self_ptr self, F then) {
  auto& st = self->state;
  self->request(st.p.tiers->front().handle, st.p.tier_timeout, get_atom::value, stale_atom::value,
                st.p.key)
      .then(
          [=](lookup& res) mutable {
            // A stale value a tag removal hid is not served either.
            admit(res, self->state.p.tags.get());
            then(std::move(res));
          },
          [=](caf::error&) mutable { then(lookup{}); });
}

/// Checks the tags of `res`, as a tier answered it (looking up tags this node does not know
/// in the tier that keeps their removal times), then calls `then(res)` with what callers get:
/// a miss if a tag removal hid it.
void admit_read(self_ptr self, lookup res, std::function<void(lookup)> then);

// Loads (flight_load.cpp).

/// Loads once, with the flight's options: on the key's owner node if that is another one
/// (flight_fleet.cpp), else here.
void start_load(self_ptr self);

/// Calls the loader here.
void load_here(self_ptr self);

/// How long the load may take: the call's timeout, else the cache's load_timeout.
std::chrono::milliseconds load_limit(const flight_state& st);

/// Starts load number `seq` (returned), here or on the owner: the flight is loading from now
/// on, and fail-safe's soft timeout runs.
uint64_t begin_load(self_ptr self);

/// The load failed: every compute waiter gets `err`, or the expired value with fail-safe.
void load_failed(self_ptr self, caf::error err);

/// A loaded value: checked, then written to every tier with `ttl` (zero: the call's).
void loaded_value(self_ptr self, bytes value, caf::timespan ttl,
                  std::vector<std::string> tags = {});

// Fleet-wide flights (flight_fleet.cpp).

/// Hands the load to the key's owner node if that is another one; false if it runs here.
bool hand_to_owner(self_ptr self);

/// A monitored actor went down: if it was the owner asked to load, or the other node's loader
/// the load runs with, the load goes elsewhere.
void owner_down(self_ptr self, const caf::down_msg& msg);

/// Keeps `loader` if it is this node's and none is kept yet.
void keep_local_loader(self_ptr self, const loader_ref& loader);

/// Before a load here: watches the loader if it is another node's.
void watch_loader(self_ptr self);

/// A bulk loader's answer for this key: a value, no value (a miss, nothing cached) or an error.
void take_entry(self_ptr self, bulk_entry entry);

// Load leases (flight_lease.cpp).

/// Loads once the key's lease is this flight's, or answers with the value its holder
/// wrote; false if no lease applies (the load runs here at once).
bool load_under_lease(self_ptr self);

/// The poll timer of load `seq` fired: looks again for the value, or the lease.
void poll_lease(self_ptr self, uint64_t seq);

/// Releases the key's lease if this flight holds it (its value is written, or it failed).
void release_lease(self_ptr self);

} // namespace mtcache::detail::flight_steps
