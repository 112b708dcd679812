#include "mtcache/actors/detail/peer_link.hpp"

#include <random>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "mtcache/actors/detail/log.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

struct peer_link_state {
  std::string host;
  uint16_t port = 0;
  caf::io::middleman_actor network;
  peer_inbox_actor inbox;
  bridge_actor bridge;
  peer_link_timing timing;
  peer_inbox_actor remote;
  uint32_t attempts = 0;
  std::minstd_rand rng{std::random_device{}()};

  static inline const char* name = "mtcache.peer_link";
};

using self_ptr = caf::stateful_actor<peer_link_state>*;

void connect(self_ptr self);

void retry_later(self_ptr self) {
  auto& st = self->state;
  auto shift = std::min<uint32_t>(st.attempts++, 16);
  auto base = std::max<int64_t>(1, std::min<int64_t>(st.timing.backoff_max.count(),
                                                     st.timing.backoff_initial.count() << shift));
  std::uniform_int_distribution<int64_t> jitter{base / 2, base};
  self->delayed_send(self, std::chrono::milliseconds{jitter(st.rng)}, retry_atom::value);
}

// Tells the remote node where to send its changes; the link counts as up (the local bridge
// starts sending there, and recovers if it had lost a peer) only once the remote confirms,
// so that every change the remote makes from then on reaches this node.
void announce(self_ptr self) {
  auto& st = self->state;
  self->request(st.remote, st.timing.connect_timeout, join_atom::value,
                caf::actor_cast<caf::actor>(st.inbox))
      .then(
          [=](ok_atom) {
            auto& st = self->state;
            st.attempts = 0;
            caf::anon_send(st.bridge, join_atom::value, caf::actor_cast<caf::actor>(st.remote));
            log(log_level::info, "peer_link",
                "linked to " + st.host + ":" + std::to_string(st.port));
          },
          [=](caf::error& err) {
            auto& st = self->state;
            log(log_level::warning, "peer_link",
                st.host + ":" + std::to_string(st.port) +
                    " did not confirm the link: " + self->system().render(err) + " (retrying)");
            self->demonitor(st.remote.address());
            st.remote = nullptr;
            retry_later(self);
          });
}

void connect(self_ptr self) {
  auto& st = self->state;
  self->request(st.network, st.timing.connect_timeout, caf::connect_atom::value, st.host, st.port)
      .then(
          [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            auto& st = self->state;
            if (!ptr) {
              retry_later(self);
              return;
            }
            st.remote = caf::actor_cast<peer_inbox_actor>(std::move(ptr));
            self->monitor(st.remote);
            announce(self);
          },
          [=](caf::error& err) {
            if (self->state.attempts == 0)
              log(log_level::warning, "peer_link",
                  "cannot link to " + self->state.host + ":" + std::to_string(self->state.port) +
                      ": " + self->system().render(err) + " (retrying)");
            retry_later(self);
          });
}

caf::behavior peer_link(self_ptr self, std::string host, uint16_t port,
                        caf::io::middleman_actor network, peer_inbox_actor inbox,
                        bridge_actor bridge, peer_link_timing timing) {
  auto& st = self->state;
  st.host = std::move(host);
  st.port = port;
  st.network = std::move(network);
  st.inbox = std::move(inbox);
  st.bridge = std::move(bridge);
  st.timing = timing;
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source != st.remote.address())
      return;
    log(log_level::warning, "peer_link",
        "lost the link to " + st.host + ":" + std::to_string(st.port) + ": " +
            self->system().render(msg.reason));
    st.remote = nullptr;
    retry_later(self);
  });
  connect(self);
  return {
      [=](retry_atom) { connect(self); },
  };
}

// Splits "host:port" or "[v6]:port".
bool split_address(const std::string& address, std::string& host, uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return false;
  host = address.substr(0, colon);
  if (host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long value = 0;
  for (auto c : address.substr(colon + 1)) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535)
      return false;
  }
  port = static_cast<uint16_t>(value);
  return !host.empty() && port != 0;
}

} // namespace

caf::expected<caf::actor> spawn_peer_link(caf::actor_system& sys, const std::string& address,
                                          caf::io::middleman_actor network, peer_inbox_actor inbox,
                                          bridge_actor bridge, peer_link_timing timing) {
  std::string host;
  uint16_t port = 0;
  if (!split_address(address, host, port))
    return make_error(errc::invalid_config, "peer address '" + address + "' is not host:port");
  return sys.spawn(peer_link, std::move(host), port, std::move(network), std::move(inbox),
                   std::move(bridge), timing);
}

} // namespace mtcache::detail
