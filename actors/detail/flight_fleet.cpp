// Fleet-wide flights: with peers, a flight hands its load to the key's owner node (rendezvous
// hashing over this node and the peers it is linked with, fleet_members.hpp), which joins its
// own flight of the key, loads once and answers every node. This flight then writes the value
// into its local tiers. An owner that leaves, is cut off, shuts down or does not answer in
// time leaves the members, and the owner among the rest loads: this node, or the one every
// other node that lost the same owner turns to, so the fleet loads once more at most.

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "mtcache/actors/detail/flight_state.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail::flight_steps {

namespace {

// What the owner node calls to load: a relay to the loader of this flight's first waiter
// that exits with the flight. The loader itself never leaves the node: an actor handle sent
// over the network stays in CAF's registry until its actor exits, which would keep a loader
// its owner dropped alive for good.
template <class Loader>
Loader relay_to(self_ptr self, Loader target) {
  auto relay =
      self->spawn([target](typename Loader::pointer relay) -> typename Loader::behavior_type {
        return {
            [=](load_atom, const std::string& key) {
              return relay->delegate(target, load_atom::value, key);
            },
        };
      });
  self->attach_functor([relay] { caf::anon_send_exit(relay, caf::exit_reason::user_shutdown); });
  return relay;
}

void stop_waiting(self_ptr self) {
  auto& st = self->state;
  st.waiting_owner = false;
  self->demonitor(st.owner);
}

// The owner could not serve the load: it leaves the members, and the load starts again.
void bypass_owner(self_ptr self) {
  auto& st = self->state;
  stop_waiting(self);
  st.report.fleet_fallbacks = 1;
  auto rest = std::make_shared<fleet_members>(*st.members);
  auto& peers = rest->peers;
  peers.erase(std::remove_if(peers.begin(), peers.end(),
                             [&](auto& peer) { return peer.second.address() == st.owner; }),
              peers.end());
  st.members = std::move(rest);
  start_load(self);
}

void owner_answered(self_ptr self, lookup res) {
  auto& st = self->state;
  if (!res.found) {
    bypass_owner(self);
    return;
  }
  stop_waiting(self);
  if (res.stale) {
    st.report.stale_served += st.computes.size();
    finish(self);
    answer_all(st.computes, res);
    return;
  }
  fill_local_then_answer(self, std::move(res));
}

// CAF's own errors (no connection, the owner gone, our wait over) and a shutting-down owner
// mean it could not load; any other error is the load's outcome there, which reaches the
// waiters as a load here would have.
void owner_failed(self_ptr self, caf::error err) {
  if (err.category() == caf::atom("system") || is(err, errc::shutting_down)) {
    bypass_owner(self);
    return;
  }
  stop_waiting(self);
  load_failed(self, std::move(err));
}

void ask_owner(self_ptr self, const peer_inbox_actor& owner) {
  auto& st = self->state;
  st.waiting_owner = true;
  st.report.fleet_forwarded = 1;
  st.owner = owner.address();
  self->monitor(owner);
  auto seq = begin_load(self);
  auto wait = st.p.fleet_owner_wait.count() > 0 ? st.p.fleet_owner_wait
                                                : load_limit(st) + st.p.tier_timeout;
  if (!st.relay.plain && !st.relay.timed)
    st.relay = st.loader.timed ? loader_ref{{}, relay_to(self, st.loader.timed), {}}
                               : loader_ref{relay_to(self, st.loader.plain), {}, {}};
  self->request(owner, wait, compute_atom::value, st.p.key, st.opts, st.relay.plain, st.relay.timed)
      .then(
          [=](lookup& res) {
            if (self->state.load_seq == seq && self->state.waiting_owner)
              owner_answered(self, std::move(res));
          },
          [=](caf::error& err) {
            if (self->state.load_seq == seq && self->state.waiting_owner)
              owner_failed(self, std::move(err));
          });
}

} // namespace

bool hand_to_owner(self_ptr self) {
  auto& st = self->state;
  // A bulk loader loads for many keys at once, on the node that calls it.
  if (!st.members || st.p.bulk || st.loader.bulk)
    return false;
  auto* owner = st.members->owner_of(st.p.key);
  if (owner == nullptr)
    return false;
  ask_owner(self, *owner);
  return true;
}

void owner_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  if (st.waiting_owner && msg.source == st.owner) {
    bypass_owner(self);
    return;
  }
  if (!st.remote_loader || msg.source != st.remote_loader || st.ph != flight_state::phase::loading)
    return;
  st.remote_loader = nullptr;
  if (!st.local_loader.plain && !st.local_loader.timed) {
    load_failed(self, make_error(errc::backend_unavailable,
                                 "the node whose loader was loading '" + st.p.key + "' is gone"));
    return;
  }
  st.loader = st.local_loader;
  load_here(self);
}

void keep_local_loader(self_ptr self, const loader_ref& loader) {
  auto& st = self->state;
  auto local = [&](const auto& handle) { return handle && handle.node() == self->node(); };
  if (!local(st.local_loader.plain) && !local(st.local_loader.timed) &&
      (local(loader.plain) || local(loader.timed)))
    st.local_loader = loader;
}

void watch_loader(self_ptr self) {
  auto& st = self->state;
  st.remote_loader = nullptr;
  if (st.loader.bulk)
    return;
  auto addr = st.loader.timed ? st.loader.timed.address() : st.loader.plain.address();
  if (addr && addr.node() != self->node()) {
    st.remote_loader = addr;
    self->monitor(addr);
  }
}

} // namespace mtcache::detail::flight_steps
