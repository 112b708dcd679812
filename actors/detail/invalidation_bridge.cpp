// The invalidation bridge: the one actor that talks to other nodes' caches.
//
// Sending (bridge_publishing.cpp): every change this node makes gets (origin, epoch, seq)
// and goes out on every path, to Redis Pub/Sub (and the audit stream) and to every linked
// peer. What Redis does not take is kept, compacted, and published as soon as it answers
// again, beside new changes rather than in front of them.
//
// Receiving (here): changes from other nodes are checked (signature, size, pattern
// prefixes), deduplicated and checked for gaps by sequence number (sequence_tracker.hpp),
// and handed to the coordinator for the local tiers.
//
// Recovery: when contact comes back after a loss, or a gap stays open past its grace, the
// node may have missed changes. With the `replay` policy it reads them from the audit
// stream (bridge_replay.cpp); only when the stream no longer holds them does it drop its
// local tiers, once.

#include "mtcache/actors/detail/invalidation_bridge.hpp"

#include <algorithm>
#include <chrono>
#include <random>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>

#include "mtcache/actors/detail/invalidation_bridge_state.hpp"
#include "mtcache/actors/detail/log.hpp"
#include "mtcache/actors/detail/peer_inbox.hpp"
#include "mtcache/actors/detail/peer_link.hpp"
#include "mtcache/codec/detail/glob.hpp"
#include "mtcache/codec/detail/invalidation_json.hpp"
#include "mtcache/codec/detail/signature.hpp"
#include "mtcache/messages/detail/flight_protocol.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

bool can_replay(const bridge_state& st) {
  return st.p.cfg.redis && st.p.cfg.audit && st.p.publisher;
}

coordinator_actor coordinator_of(bridge_ptr self) {
  return caf::actor_cast<coordinator_actor>(
      caf::actor_cast<caf::strong_actor_ptr>(self->state.coordinator));
}

namespace {

std::string random_node_id() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> dist;
  static constexpr char hex[] = "0123456789abcdef";
  auto x = dist(rd);
  std::string out;
  for (int i = 0; i < 16; ++i, x >>= 4)
    out.push_back(hex[x & 0xf]);
  return out;
}

// A pattern from another node may only touch keys under an allowed prefix.
bool pattern_allowed(const bridge_state& st, const std::string& pattern) {
  auto& allowed = st.p.cfg.allowed_pattern_prefixes;
  if (allowed.empty())
    return true;
  auto compiled = glob::compile(pattern);
  if (!compiled)
    return false;
  auto prefix = compiled->literal_prefix();
  for (auto& a : allowed)
    if (prefix.compare(0, a.size(), a) == 0)
      return true;
  return false;
}

// Records the change's sequence numbers; false if it was applied already.
bool track(bridge_ptr self, invalidation& change) {
  auto& st = self->state;
  if (change.seq == 0)
    return true;
  bool had_gap = st.tracker.has_gaps();
  auto verdict =
      st.tracker.record(change.origin, change.epoch, change.from_seq, change.seq, steady_ms());
  if (!had_gap && st.tracker.has_gaps())
    ++st.stats.gaps;
  st.stats.missing = st.tracker.missing();
  switch (verdict) {
  case sequence_tracker::verdict::duplicate:
    ++st.stats.duplicates;
    return false;
  case sequence_tracker::verdict::stale_epoch:
    // A sender's earlier life: its values may be older than what it wrote since.
    if (change.type == invalidation::kind::update) {
      change.type = invalidation::kind::remove;
      change.value = bytes{};
    }
    return true;
  case sequence_tracker::verdict::fresh:
    break;
  }
  return true;
}

// A raw Pub/Sub payload: signature, size, JSON, then `accept`.
void accept_payload(bridge_ptr self, const std::string& wire) {
  auto& st = self->state;
  std::string reason;
  std::string_view payload = wire;
  std::optional<std::string> verified;
  if (!st.p.cfg.secret.empty()) {
    verified = verify(wire, st.p.cfg.secret, &reason);
    if (!verified) {
      ++st.stats.rejected_signature;
      log(log_level::warning, "invalidation_bridge", "dropped a message: " + reason);
      return;
    }
    payload = *verified;
  }
  invalidation_limits limits;
  limits.max_message_bytes = st.p.cfg.max_message_bytes;
  auto change = decode_invalidation(payload, &reason, limits);
  if (!change && payload.size() > limits.max_message_bytes) {
    // Too large to take whole, but what it names can still go.
    change = decode_invalidation_header(payload, nullptr, limits);
    if (change) {
      ++st.stats.oversized_removed;
      log(log_level::info, "invalidation_bridge",
          "a message of " + std::to_string(payload.size()) +
              " bytes exceeds max_message_bytes;"
              " applying it as a removal");
    }
  }
  if (!change) {
    ++st.stats.processing_errors;
    log(log_level::info, "invalidation_bridge", "dropped a malformed message: " + reason);
    return;
  }
  accept(self, std::move(*change), change_source::pubsub);
}

void join(bridge_ptr self, const caf::actor& who);

// `reason` counts the run by what came back.
void recover(bridge_ptr self, const std::string& why, uint64_t bridge_stats::*reason) {
  auto& st = self->state;
  ++st.stats.recoveries;
  ++(st.stats.*reason);
  st.stats.last_recovery_ms = unix_ms();
  switch (st.p.cfg.recovery) {
  case recovery_policy::none:
    log(log_level::info, "invalidation_bridge", why + " is back; recovery policy is none");
    return;
  case recovery_policy::replay:
    if (can_replay(st)) {
      replay(self, why + " is back");
      return;
    }
    break;
  case recovery_policy::clear:
    break;
  }
  flush_local(self, why + " is back (invalidations may have been missed)",
              &bridge_stats::flushes_reconnect);
}

// The coordinator routes loads over the peers (fleet-wide flights): it learns every change.
void tell_fleet(bridge_ptr self) {
  if (auto coordinator = coordinator_of(self))
    self->send(coordinator, fleet_atom::value, self->state.peers);
}

void join(bridge_ptr self, const caf::actor& who) {
  auto& st = self->state;
  auto peer = caf::actor_cast<peer_inbox_actor>(who);
  if (!peer || peer == st.inbox)
    return;
  for (auto& known : st.peers)
    if (known == peer)
      return;
  st.peers.push_back(peer);
  st.stats.peers_connected = static_cast<uint32_t>(st.peers.size());
  self->monitor(peer);
  tell_fleet(self);
  if (st.lost_peer) {
    st.lost_peer = false;
    ++st.stats.peer_reconnects;
    recover(self, "a peer link", &bridge_stats::recoveries_peer);
  }
}

void start_paths(bridge_ptr self) {
  auto& st = self->state;
  auto& cfg = st.p.cfg;
  auto me = caf::actor_cast<bridge_actor>(self);
  if (cfg.redis) {
    st.subscriber = spawn_redis_subscriber(
        self->system(),
        {st.p.url, st.channel, cfg.keepalive, st.p.request_timeout, st.p.connect_timeout,
         cfg.backoff_initial, cfg.backoff_max, cfg.tracking && !st.p.tracked.empty()},
        caf::actor_cast<bridge_impl>(self));
    st.owned.push_back(caf::actor_cast<caf::actor>(st.subscriber));
  }
  if (!cfg.listen && cfg.peers.empty())
    return;
  st.inbox = spawn_peer_inbox(self->system(), me, st.coordinator);
  st.owned.push_back(caf::actor_cast<caf::actor>(st.inbox));
  if (cfg.listen) {
    auto sigs = self->system().message_types(st.inbox);
    self->request(st.p.network, bridge_call_timeout, caf::publish_atom::value, cfg.listen_port,
                  caf::actor_cast<caf::strong_actor_ptr>(st.inbox), std::move(sigs),
                  cfg.listen_host, true)
        .then([=](uint16_t port) { self->state.stats.listen_port = port; },
              [=](caf::error& err) {
                log(log_level::error, "invalidation_bridge",
                    "cannot listen for peers: " + self->system().render(err));
              });
  }
  for (auto& address : cfg.peers) {
    auto link = spawn_peer_link(self->system(), address, st.p.network, st.inbox, me,
                                {cfg.peer_connect_timeout, cfg.backoff_initial, cfg.backoff_max});
    if (link)
      st.owned.push_back(*link);
    else
      log(log_level::error, "invalidation_bridge", self->system().render(link.error()));
  }
}

// Often enough for the gap grace and the keepalive, which time recovery and the stream
// position.
std::chrono::milliseconds tick_interval(const invalidation_config& cfg) {
  auto interval = std::min(cfg.gap_grace / 2, cfg.keepalive);
  return std::max(interval, std::chrono::milliseconds{10});
}

bridge_impl::behavior_type invalidation_bridge(bridge_ptr self, bridge_params params) {
  auto& st = self->state;
  st.coordinator = caf::actor_cast<caf::weak_actor_ptr>(params.coordinator);
  params.coordinator = nullptr;
  st.stats.node_id = params.node_id.empty() ? random_node_id() : params.node_id;
  st.channel = params.cfg.channel_prefix + params.cfg.channel;
  st.stream = params.cfg.channel_prefix + params.cfg.audit_stream;
  st.epoch = static_cast<uint64_t>(unix_ms());
  st.backlog = publish_backlog{params.cfg.max_held_keys};
  st.p = std::move(params);
  st.tracking_on.assign(st.p.tracked.size(), false);
  start_paths(self);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    auto i = std::find_if(st.peers.begin(), st.peers.end(),
                          [&](const peer_inbox_actor& p) { return p.address() == msg.source; });
    if (i == st.peers.end())
      return;
    st.peers.erase(i);
    st.stats.peers_connected = static_cast<uint32_t>(st.peers.size());
    st.lost_peer = true;
    tell_fleet(self);
  });
  self->attach_functor(
      [owned = st.owned, network = st.p.network, inbox = st.inbox, listening = st.p.cfg.listen] {
        if (listening && inbox)
          caf::anon_send(network, caf::unpublish_atom::value, inbox.address(), uint16_t{0});
        for (auto& a : owned)
          caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      });
  auto interval = tick_interval(st.p.cfg);
  self->delayed_send(self, interval, caf::tick_atom::value);
  return {
      [=](caf::publish_atom, invalidation& change) { send_out(self, change); },
      [=](apply_atom, invalidation& change) {
        accept(self, std::move(change), change_source::peer);
      },
      [=](apply_atom, const std::string& wire) { accept_payload(self, wire); },
      [=](join_atom, const caf::actor& who) {
        join(self, who);
        return ok_atom::value;
      },
      [=](caf::subscribe_atom, bool up, bool after_loss) {
        auto& st = self->state;
        st.stats.redis_subscribed = up;
        if (!up && !st.p.tracked.empty())
          tracking_subscription_lost(self);
        if (up && after_loss) {
          ++st.stats.redis_reconnects;
          recover(self, "the Redis subscription", &bridge_stats::recoveries_redis);
        } else if (up) {
          sync_position(self);
        }
      },
      [=](insync_atom) {
        auto& st = self->state;
        return !st.p.cfg.redis || (st.stats.redis_subscribed && !st.replaying &&
                                   st.replay_pending.empty() && !st.tracker.has_gaps());
      },
      [=](stats_atom) {
        auto& st = self->state;
        st.stats.publish_held = st.backlog.size();
        st.stats.held_compacted = st.backlog.compacted();
        st.stats.publish_errors = st.backlog.dropped();
        st.stats.missing = st.tracker.missing();
        st.stats.replay_position = st.cursor ? st.cursor->id : std::string{};
        return st.stats;
      },
      [=](track_atom, uint64_t client_id) { tracking_redirect(self, client_id); },
      [=](track_atom, const std::vector<std::string>& names, bool flushed) {
        tracking_invalidated(self, names, flushed);
      },
      [=](track_atom, const caf::error& err) { tracking_refused(self, err); },
      [=](track_atom, uint32_t level, uint64_t redirect, bool on) {
        tracking_changed(self, level, redirect, on);
      },
      [=](caf::tick_atom) {
        on_tick(self);
        self->delayed_send(self, interval, caf::tick_atom::value);
      },
  };
}

} // namespace

void accept(bridge_ptr self, invalidation change, change_source source) {
  auto& st = self->state;
  if (!change.origin.empty() && change.origin == st.stats.node_id) {
    if (source != change_source::replay)
      ++st.stats.own_ignored;
    return;
  }
  if (!track(self, change))
    return;
  switch (change.type) {
  case invalidation::kind::remove:
    ++st.stats.received_removes;
    break;
  case invalidation::kind::update:
    ++st.stats.received_updates;
    break;
  case invalidation::kind::remove_pattern:
    if (!pattern_allowed(st, change.pattern)) {
      ++st.stats.rejected_patterns;
      log(log_level::warning, "invalidation_bridge",
          "dropped a pattern outside the allowed prefixes: " + change.pattern);
      return;
    }
    ++st.stats.received_patterns;
    break;
  case invalidation::kind::remove_bulk:
    ++st.stats.received_bulk;
    break;
  case invalidation::kind::remove_tag:
    ++st.stats.received_tags;
    break;
  case invalidation::kind::clear:
    // Everything, as the pattern "*" would: refused where patterns are limited to prefixes.
    if (!pattern_allowed(st, "*")) {
      ++st.stats.rejected_patterns;
      log(log_level::warning, "invalidation_bridge",
          "dropped a clear: patterns are limited to the allowed prefixes");
      return;
    }
    ++st.stats.received_clears;
    break;
  }
  ++(source == change_source::replay ? st.stats.replayed : st.stats.received);
  if (source != change_source::replay)
    ++(source == change_source::pubsub ? st.stats.received_redis : st.stats.received_peers);
  if (auto coordinator = coordinator_of(self))
    self->request(coordinator, bridge_call_timeout, apply_atom::value, std::move(change))
        .then([](ok_atom) {}, [=](caf::error&) { ++self->state.stats.processing_errors; });
}

void flush_local(bridge_ptr self, const std::string& why, uint64_t bridge_stats::*reason) {
  auto& st = self->state;
  st.tracker.forgive();
  st.stats.missing = 0;
  if (st.p.cfg.recovery == recovery_policy::none) {
    log(log_level::info, "invalidation_bridge", why + "; recovery policy is none");
    return;
  }
  ++st.stats.flushes;
  ++(st.stats.*reason);
  log(log_level::info, "invalidation_bridge", why + ": clearing local tiers");
  if (auto coordinator = coordinator_of(self))
    self->request(coordinator, bridge_call_timeout, recover_atom::value)
        .then([](uint64_t) {},
              [](caf::error& err) {
                log(log_level::error, "invalidation_bridge",
                    "recovery failed: " + caf::to_string(err));
              });
}

bridge_actor spawn_invalidation_bridge(caf::actor_system& sys, bridge_params params) {
  return sys.spawn(invalidation_bridge, std::move(params));
}

} // namespace mtcache::detail
