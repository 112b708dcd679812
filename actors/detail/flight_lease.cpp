// Load leases (cache_options::load_lease): without a fleet owner to hand the load to, nodes
// that share a Redis tier agree on one loader per key through it. A flight that misses every
// tier sets the key's lease (SET NX PX with a token of its own) and loads only if that
// succeeds; the holder writes every tier as any load does and then releases the lease (only
// if still its own). A flight that finds the lease taken polls the tier, backing off from
// 5 ms to 50 ms: the value showing up answers its waiters as a hit there; the lease gone
// without a value (its holder failed or vanished: the lease expired) is taken again.
//
// Every look sets the lease first and reads the value after: the holder writes the value
// before it releases, so a flight that takes a lease just released finds that value and does
// not load again. A lease is an optimisation only: Redis failing, or a wait longer than the
// load's own timeout, makes the flight load here without one.

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>

#include <caf/node_id.hpp>
#include <caf/send.hpp>

#include "mtcache/actors/detail/flight_state.hpp"

namespace mtcache::detail::flight_steps {

namespace {

// Backoff between looks: short at first (a load that was about done), capped so that a
// waiting flight costs Redis three commands (SET, GET, PTTL) per 50 ms at most.
constexpr std::chrono::milliseconds first_backoff{5};
constexpr std::chrono::milliseconds max_backoff{50};

const chain_tier& lease_tier(const flight_state& st) {
  return (*st.p.tiers)[st.lease_tier];
}

// Whether load `seq` still waits on the lease (no load here started since, no value found).
bool waiting(const flight_state& st, uint64_t seq) {
  return st.lease_waiting && st.load_seq == seq && st.ph == flight_state::phase::loading;
}

// Loads here, holding the lease or not (`fallback`: Redis failed or the wait ran out).
void load_now(self_ptr self, bool fallback) {
  auto& st = self->state;
  st.lease_waiting = false;
  if (fallback)
    st.report.lease_fallbacks = 1;
  else
    st.report.lease_acquired = 1;
  load_here(self);
}

void schedule_look(self_ptr self, uint64_t seq) {
  auto& st = self->state;
  st.lease_backoff =
      st.lease_backoff.count() == 0 ? first_backoff : std::min(st.lease_backoff * 2, max_backoff);
  // The last look comes at the deadline, not after it.
  auto left = std::chrono::ceil<std::chrono::milliseconds>(st.lease_deadline - self->clock().now());
  auto wait = std::max(std::chrono::milliseconds{1}, std::min(st.lease_backoff, left));
  self->delayed_send(self, wait, lease_atom::value, seq);
}

// Reads the value the lease's holder (this flight, or another) may have written.
void look_for_value(self_ptr self, uint64_t seq, bool held) {
  auto& st = self->state;
  self->request(lease_tier(st).handle, st.p.tier_timeout, get_atom::value, st.p.key)
      .then(
          [=](lookup& found) {
            if (!waiting(self->state, seq))
              return;
            // A value a tag removal hid is no value: the holder loads a new one.
            admit_read(self, std::move(found), [=](lookup res) {
              auto& st = self->state;
              if (!waiting(st, seq))
                return;
              if (!res.found) {
                if (held)
                  load_now(self, false);
                else
                  schedule_look(self, seq);
                return;
              }
              // Another node's load (written before this flight could take the lease): a hit
              // of the lease's tier, promoted as any hit there.
              st.lease_waiting = false;
              st.report.lease_waited = 1;
              res.level = lease_tier(st).cfg.level;
              fill_then_answer(self, std::move(res), st.lease_tier);
            });
          },
          [=](caf::error&) {
            if (!waiting(self->state, seq))
              return;
            ++self->state.report.tier_errors;
            load_now(self, !held);
          });
}

// Sets the lease, then reads the value (see the top of the file).
void try_lease(self_ptr self, uint64_t seq) {
  auto& st = self->state;
  auto time = std::min(st.p.lease_time, load_limit(st));
  self->request(lease_tier(st).lease, st.p.tier_timeout, lease_atom::value, st.p.key,
                st.lease_token, caf::timespan{time})
      .then(
          [=](bool held) {
            auto& st = self->state;
            if (!waiting(st, seq)) {
              // Taken after this flight moved on: give it back rather than let it expire.
              if (held && !st.lease_held)
                caf::anon_send(lease_tier(st).lease, lease_atom::value, delete_atom::value,
                               st.p.key, st.lease_token);
              return;
            }
            st.lease_held = held;
            // A refresh reloads a value the tiers hold still: with the lease, it loads.
            if (held && st.p.refresh)
              load_now(self, false);
            else
              look_for_value(self, seq, held);
          },
          [=](caf::error&) {
            if (waiting(self->state, seq))
              load_now(self, true);
          });
}

} // namespace

bool load_under_lease(self_ptr self) {
  auto& st = self->state;
  // A bulk loader loads many keys at once, on the node that calls it.
  if (st.p.lease_time.count() <= 0 || st.p.bulk || st.loader.bulk)
    return false;
  auto& tiers = *st.p.tiers;
  auto i =
      std::find_if(tiers.begin(), tiers.end(), [](auto& t) { return static_cast<bool>(t.lease); });
  if (i == tiers.end())
    return false;
  st.lease_tier = static_cast<size_t>(i - tiers.begin());
  // Unique in the fleet: the node, and this flight's actor id there.
  if (st.lease_token.empty())
    st.lease_token = caf::to_string(self->node()) + "/" + std::to_string(self->id());
  auto seq = begin_load(self);
  st.lease_waiting = true;
  st.lease_backoff = std::chrono::milliseconds{0};
  st.lease_deadline = self->clock().now() + load_limit(st);
  try_lease(self, seq);
  return true;
}

void poll_lease(self_ptr self, uint64_t seq) {
  auto& st = self->state;
  if (!waiting(st, seq))
    return;
  if (self->clock().now() >= st.lease_deadline) {
    load_now(self, true);
    return;
  }
  try_lease(self, seq);
}

void release_lease(self_ptr self) {
  auto& st = self->state;
  if (!st.lease_held)
    return;
  st.lease_held = false;
  // Nobody waits for the answer: a lease left behind expires by itself.
  caf::anon_send(lease_tier(st).lease, lease_atom::value, delete_atom::value, st.p.key,
                 st.lease_token);
}

} // namespace mtcache::detail::flight_steps
