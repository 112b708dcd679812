// How the bridge sends this node's changes.
//
// Every change gets this node's origin, epoch and next sequence number and goes to every
// linked peer and to Redis: a PUBLISH and, with `audit`, an XADD to the audit stream,
// pipelined on one connection in that order (bridge_replay.cpp relies on an entry in the
// stream having been delivered to every subscriber first).
//
// What Redis does not take goes into the publish backlog (publish_backlog.hpp): the newest
// change per key, sent as removals in a few compacted messages as soon as Redis answers
// again. New changes do not wait for it: they go out at once, and one that succeeds starts
// the backlog right away. Updates whose value exceeds `max_update_value_bytes` travel as
// removals, so that no message comes near what receivers accept or what Redis' Pub/Sub
// output buffers hold.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "mtcache/actors/detail/invalidation_bridge_state.hpp"
#include "mtcache/codec/detail/invalidation_json.hpp"
#include "mtcache/codec/detail/signature.hpp"

namespace mtcache::detail {

namespace {

std::string payload_of(const bridge_state& st, const invalidation& change) {
  auto payload = encode_invalidation(change);
  if (!st.p.cfg.secret.empty())
    payload = *sign(payload, st.p.cfg.secret);
  return payload;
}

// The crate's audit fields (type, timestamp in unix seconds, the key or pattern, or a bulk
// removal's count), then the change itself for replay: as JSON, an update without its value
// (a replayed change is applied as a removal).
std::vector<stream_field> audit_fields(const invalidation& change) {
  static constexpr const char* names[] = {"remove",      "update",     "remove_pattern",
                                          "remove_bulk", "remove_tag", "clear"};
  std::vector<stream_field> fields{{"type", names[static_cast<int>(change.type)]},
                                   {"timestamp", std::to_string(change.ts_ms / 1000)}};
  if (change.type == invalidation::kind::remove_pattern)
    fields.push_back({"key", change.pattern});
  else if (change.type == invalidation::kind::remove_bulk)
    fields.push_back({"count", std::to_string(change.keys.size())});
  else
    fields.push_back({"key", change.key});
  auto replayable = change;
  if (replayable.type == invalidation::kind::update) {
    replayable.type = invalidation::kind::remove;
    replayable.value = bytes{};
    replayable.ttl_ms = -1;
  }
  fields.push_back({"msg", encode_invalidation(replayable)});
  return fields;
}

// PUBLISH and, with audit, XADD; `done(ok)` once both answered.
template <class Done>
void publish(bridge_ptr self, const invalidation& change, Done done) {
  auto& st = self->state;
  struct round {
    int outstanding;
    bool ok = true;
  };
  auto r = std::make_shared<round>(round{st.p.cfg.audit ? 2 : 1});
  auto finish = [r, done](bool ok) mutable {
    r->ok = r->ok && ok;
    if (--r->outstanding == 0)
      done(r->ok);
  };
  self->request(st.p.publisher, bridge_call_timeout, caf::publish_atom::value, st.channel,
                payload_of(st, change))
      .then(
          [=](uint64_t) mutable {
            ++self->state.stats.published_redis;
            finish(true);
          },
          [=](caf::error&) mutable { finish(false); });
  if (st.p.cfg.audit)
    self->request(st.p.publisher, bridge_call_timeout, xadd_atom::value, st.stream,
                  audit_fields(change), st.p.cfg.audit_maxlen)
        .then([=](const std::string&) mutable { finish(true); },
              [=](caf::error&) mutable {
                ++self->state.stats.audit_errors;
                finish(false);
              });
}

void settle(publish_backlog& backlog, const invalidation& change) {
  if (change.type == invalidation::kind::remove || change.type == invalidation::kind::update)
    backlog.settle(change.key);
  else if (change.type == invalidation::kind::remove_bulk)
    for (auto& key : change.keys)
      backlog.settle(key);
}

void drain_backlog(bridge_ptr self) {
  auto& st = self->state;
  auto messages = st.backlog.drain();
  if (messages.empty())
    return;
  st.draining = true;
  auto outstanding = std::make_shared<size_t>(messages.size());
  auto now = unix_ms();
  for (auto& msg : messages) {
    msg.origin = st.stats.node_id;
    msg.epoch = st.epoch;
    msg.ts_ms = now;
    // A backlog names keys, not when each changed.
    msg.reread = true;
    ++st.stats.backlog_messages;
    publish(self, msg, [self, msg, outstanding](bool ok) {
      auto& st = self->state;
      if (!ok)
        st.backlog.hold(msg);
      if (--*outstanding == 0)
        st.draining = false;
    });
  }
}

} // namespace

void send_out(bridge_ptr self, invalidation& change) {
  auto& st = self->state;
  change.origin = st.stats.node_id;
  change.epoch = st.epoch;
  change.seq = ++st.seq;
  change.from_seq = 0;
  change.ts_ms = unix_ms();
  if (change.type == invalidation::kind::update &&
      change.value.size() > st.p.cfg.max_update_value_bytes) {
    change.type = invalidation::kind::remove;
    change.value = bytes{};
    change.ttl_ms = -1;
    ++st.stats.large_updates_removed;
  }
  ++st.stats.messages_sent;
  if (st.p.cfg.redis && st.p.publisher)
    publish(self, change, [self, change](bool ok) {
      auto& st = self->state;
      if (!ok) {
        st.backlog.hold(change);
        return;
      }
      settle(st.backlog, change);
      if (!st.backlog.empty() && !st.draining)
        drain_backlog(self);
    });
  for (auto& peer : st.peers) {
    self->send(peer, apply_atom::value, change);
    ++st.stats.sent_to_peers;
  }
}

void retry_backlog(bridge_ptr self) {
  auto& st = self->state;
  if (st.backlog.empty() || st.draining || st.probing || !st.p.publisher)
    return;
  // A PING first: while Redis is away, the backlog stays whole instead of being encoded
  // and failed once per tick.
  st.probing = true;
  self->request(st.p.publisher, bridge_call_timeout, health_atom::value)
      .then(
          [=](const tier_health& health) {
            auto& st = self->state;
            st.probing = false;
            if (health.ok && !st.draining)
              drain_backlog(self);
          },
          [=](caf::error&) { self->state.probing = false; });
}

} // namespace mtcache::detail
