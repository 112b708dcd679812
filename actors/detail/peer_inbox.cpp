#include "mtcache/actors/detail/peer_inbox.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/weak_intrusive_ptr.hpp>

#include "mtcache/messages/detail/flight_protocol.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

peer_inbox_actor::behavior_type peer_inbox(peer_inbox_actor::pointer self, bridge_actor bridge,
                                           caf::weak_actor_ptr coordinator) {
  return {
      [=](apply_atom, invalidation& inv) { self->send(bridge, apply_atom::value, std::move(inv)); },
      [=](join_atom, const caf::actor& who) {
        return self->delegate(bridge, join_atom::value, who);
      },
      [=](compute_atom, std::string& key, compute_options& opts, loader_actor& plain,
          ttl_loader_actor& timed) -> caf::result<lookup> {
        auto target =
            caf::actor_cast<coordinator_actor>(caf::actor_cast<caf::strong_actor_ptr>(coordinator));
        if (!target)
          return make_error(errc::shutting_down, "the cache is shutting down");
        if (static_cast<bool>(plain) == static_cast<bool>(timed))
          return make_error(errc::malformed_message, "a forwarded load needs exactly one loader");
        return self->delegate(target, compute_atom::value, std::move(key), std::move(opts),
                              loader_ref{std::move(plain), std::move(timed), {}},
                              fleet_atom::value);
      },
  };
}

} // namespace

peer_inbox_actor spawn_peer_inbox(caf::actor_system& sys, bridge_actor bridge,
                                  caf::weak_actor_ptr coordinator) {
  return sys.spawn(peer_inbox, std::move(bridge), std::move(coordinator));
}

} // namespace mtcache::detail
