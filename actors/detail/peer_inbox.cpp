#include "mtcache/actors/detail/peer_inbox.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace mtcache::detail {

namespace {

peer_inbox_actor::behavior_type peer_inbox(peer_inbox_actor::pointer self, bridge_actor bridge) {
  return {
      [=](apply_atom, invalidation& inv) { self->send(bridge, apply_atom::value, std::move(inv)); },
      [=](join_atom, const caf::actor& who) {
        return self->delegate(bridge, join_atom::value, who);
      },
  };
}

} // namespace

peer_inbox_actor spawn_peer_inbox(caf::actor_system& sys, bridge_actor bridge) {
  return sys.spawn(peer_inbox, std::move(bridge));
}

} // namespace mtcache::detail
