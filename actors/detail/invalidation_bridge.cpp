#include "mtcache/actors/detail/invalidation_bridge.hpp"

#include <chrono>
#include <deque>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/actors/detail/log.hpp"
#include "mtcache/actors/detail/peer_inbox.hpp"
#include "mtcache/actors/detail/peer_link.hpp"
#include "mtcache/actors/detail/redis_subscriber.hpp"
#include "mtcache/codec/detail/glob.hpp"
#include "mtcache/codec/detail/invalidation_json.hpp"
#include "mtcache/codec/detail/signature.hpp"
#include "mtcache/messages/detail/flight_protocol.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

// Sequence numbers of one origin that were applied, so a message arriving on a second path
// applies once. Both paths deliver an origin's messages in order, so a window suffices.
class seen_window {
public:
  static constexpr uint64_t width = 4096;

  /// Whether `seq` is new (and remembers it).
  bool insert(uint64_t seq) {
    if (high_ >= width && seq <= high_ - width)
      return false;
    if (!recent_.insert(seq).second)
      return false;
    if (seq > high_) {
      high_ = seq;
      while (!recent_.empty() && high_ >= width && *recent_.begin() <= high_ - width)
        recent_.erase(recent_.begin());
    }
    return true;
  }

private:
  uint64_t high_ = 0;
  std::set<uint64_t> recent_;
};

// Origins tracked at most; past that the table starts over (a flood of made-up origins
// must not grow it without bound; the cost is a possible duplicate application).
constexpr size_t max_origins = 4096;

// How long the bridge waits for the coordinator or the publisher.
constexpr auto call_timeout = std::chrono::seconds{5};

struct bridge_state {
  bridge_params p;
  caf::weak_actor_ptr coordinator;
  std::string channel;
  std::string stream;
  uint64_t seq = 0;
  std::unordered_map<std::string, seen_window> seen;
  std::vector<peer_inbox_actor> peers;
  // A peer link went down since the last recovery: the next link-up must recover.
  bool lost_peer = false;
  peer_inbox_actor inbox;
  std::vector<caf::actor> owned;
  // Changes not yet published, oldest first: held while the publishing connection is down
  // and sent in order once it is back, so no change is lost to a reconnect or overtaken.
  std::deque<invalidation> unpublished;
  bridge_stats stats;

  static inline const char* name = "mtcache.invalidation_bridge";
};

using self_ptr = bridge_actor::stateful_pointer<bridge_state>;

int64_t unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

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

coordinator_actor coordinator_of(self_ptr self) {
  return caf::actor_cast<coordinator_actor>(
      caf::actor_cast<caf::strong_actor_ptr>(self->state.coordinator));
}

void run_recovery(self_ptr self, const std::string& why) {
  auto& st = self->state;
  ++st.stats.recoveries;
  st.stats.last_recovery_ms = unix_ms();
  if (st.p.cfg.recovery == recovery_policy::none) {
    log(log_level::info, "invalidation_bridge", why + " is back; recovery policy is none");
    return;
  }
  log(log_level::info, "invalidation_bridge",
      why + " is back: clearing local tiers (invalidations may have been missed)");
  if (auto coordinator = coordinator_of(self))
    self->request(coordinator, call_timeout, recover_atom::value)
        .then([](uint64_t) {},
              [](caf::error& err) {
                log(log_level::error, "invalidation_bridge",
                    "recovery failed: " + caf::to_string(err));
              });
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

// Applies a change another node made, unless it is ours, already applied, or not allowed.
void accept(self_ptr self, invalidation inv) {
  auto& st = self->state;
  if (!inv.origin.empty()) {
    if (inv.origin == st.stats.node_id) {
      ++st.stats.own_ignored;
      return;
    }
    if (inv.seq != 0) {
      if (st.seen.size() >= max_origins && st.seen.count(inv.origin) == 0)
        st.seen.clear();
      if (!st.seen[inv.origin].insert(inv.seq)) {
        ++st.stats.duplicates;
        return;
      }
    }
  }
  switch (inv.type) {
  case invalidation::kind::remove:
    ++st.stats.received_removes;
    break;
  case invalidation::kind::update:
    ++st.stats.received_updates;
    break;
  case invalidation::kind::remove_pattern:
    if (!pattern_allowed(st, inv.pattern)) {
      ++st.stats.rejected_patterns;
      log(log_level::warning, "invalidation_bridge",
          "dropped a pattern outside the allowed prefixes: " + inv.pattern);
      return;
    }
    ++st.stats.received_patterns;
    break;
  case invalidation::kind::remove_bulk:
    ++st.stats.received_bulk;
    break;
  }
  ++st.stats.received;
  if (auto coordinator = coordinator_of(self))
    self->request(coordinator, call_timeout, apply_atom::value, std::move(inv))
        .then([](ok_atom) {}, [=](caf::error&) { ++self->state.stats.processing_errors; });
}

// A raw Pub/Sub payload: size, signature, JSON, then `accept`.
void accept_payload(self_ptr self, const std::string& wire) {
  auto& st = self->state;
  if (wire.size() > st.p.cfg.max_message_bytes) {
    ++st.stats.processing_errors;
    return;
  }
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
  auto inv = decode_invalidation(payload, &reason, limits);
  if (!inv) {
    ++st.stats.processing_errors;
    log(log_level::info, "invalidation_bridge", "dropped a malformed message: " + reason);
    return;
  }
  accept(self, std::move(*inv));
}

// XADD stream MAXLEN ~ n * type <t> timestamp <unix s> [key <key or pattern>] [count <n>],
// the audit entry format of the multi-tier-cache crate.
std::vector<stream_field> audit_fields(const invalidation& inv) {
  static constexpr const char* names[] = {"remove", "update", "remove_pattern", "remove_bulk"};
  std::vector<stream_field> fields{{"type", names[static_cast<int>(inv.type)]},
                                   {"timestamp", std::to_string(inv.ts_ms / 1000)}};
  if (inv.type == invalidation::kind::remove_pattern)
    fields.push_back({"key", inv.pattern});
  else if (inv.type == invalidation::kind::remove_bulk)
    fields.push_back({"count", std::to_string(inv.keys.size())});
  else
    fields.push_back({"key", inv.key});
  return fields;
}

// Changes held for Redis at most; beyond, the oldest is dropped (and counted): receivers
// then rely on TTLs, as with any change missed while their own subscription was down.
constexpr size_t max_unpublished = 10000;
constexpr auto republish_interval = std::chrono::milliseconds{50};

std::string payload_of(const bridge_state& st, const invalidation& inv) {
  auto payload = encode_invalidation(inv);
  std::string reason;
  if (!st.p.cfg.secret.empty())
    payload = *sign(payload, st.p.cfg.secret, &reason);
  return payload;
}

// Holds a change Redis did not take. A held update goes out as a removal: by the time it is
// published, a receiver may hold a newer value (read back from a shared tier after its own
// recovery) that the old one must not overwrite; dropping the copy is right either way.
void hold(self_ptr self, invalidation inv) {
  auto& st = self->state;
  if (inv.type == invalidation::kind::update) {
    inv.type = invalidation::kind::remove;
    inv.value = bytes{};
  }
  if (st.unpublished.size() >= max_unpublished) {
    st.unpublished.pop_front();
    ++st.stats.publish_errors;
    log(log_level::error, "invalidation_bridge", "dropped a change Redis never took");
  }
  st.unpublished.push_back(std::move(inv));
  st.stats.publish_held = st.unpublished.size();
  if (st.unpublished.size() == 1)
    self->delayed_send(self, republish_interval, retry_atom::value);
}

// Publishes the oldest held change; on success the next, on failure again later.
void republish(self_ptr self) {
  auto& st = self->state;
  if (st.unpublished.empty())
    return;
  self->request(st.p.publisher, call_timeout, caf::publish_atom::value, st.channel,
                payload_of(st, st.unpublished.front()))
      .then(
          [=](uint64_t) {
            auto& st = self->state;
            st.unpublished.pop_front();
            st.stats.publish_held = st.unpublished.size();
            ++st.stats.published_redis;
            republish(self);
          },
          [=](caf::error&) { self->delayed_send(self, republish_interval, retry_atom::value); });
}

void publish(self_ptr self, const invalidation& inv) {
  auto& st = self->state;
  if (!st.unpublished.empty()) {
    hold(self, inv);
    return;
  }
  self->request(st.p.publisher, call_timeout, caf::publish_atom::value, st.channel,
                payload_of(st, inv))
      .then([=](uint64_t) { ++self->state.stats.published_redis; },
            [=](caf::error&) { hold(self, inv); });
}

void send_out(self_ptr self, invalidation& inv) {
  auto& st = self->state;
  inv.origin = st.stats.node_id;
  inv.seq = ++st.seq;
  inv.ts_ms = unix_ms();
  ++st.stats.messages_sent;
  if (st.p.cfg.redis && st.p.publisher) {
    publish(self, inv);
    if (st.p.cfg.audit)
      self->request(st.p.publisher, call_timeout, xadd_atom::value, st.stream, audit_fields(inv),
                    st.p.cfg.audit_maxlen)
          .then([](const std::string&) {}, [=](caf::error&) { ++self->state.stats.audit_errors; });
  }
  for (auto& peer : st.peers) {
    self->send(peer, apply_atom::value, inv);
    ++st.stats.sent_to_peers;
  }
}

void join(self_ptr self, const caf::actor& who) {
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
  if (st.lost_peer) {
    st.lost_peer = false;
    ++st.stats.peer_reconnects;
    run_recovery(self, "a peer link");
  }
}

void start_paths(self_ptr self) {
  auto& st = self->state;
  auto& cfg = st.p.cfg;
  auto me = caf::actor_cast<bridge_actor>(self);
  if (cfg.redis)
    st.owned.push_back(caf::actor_cast<caf::actor>(
        spawn_redis_subscriber(self->system(),
                               {st.p.url, st.channel, cfg.keepalive, st.p.request_timeout,
                                st.p.connect_timeout, cfg.backoff_initial, cfg.backoff_max},
                               me)));
  if (!cfg.listen && cfg.peers.empty())
    return;
  st.inbox = spawn_peer_inbox(self->system(), me);
  st.owned.push_back(caf::actor_cast<caf::actor>(st.inbox));
  if (cfg.listen) {
    auto sigs = self->system().message_types(st.inbox);
    self->request(st.p.network, call_timeout, caf::publish_atom::value, cfg.listen_port,
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

bridge_actor::behavior_type invalidation_bridge(self_ptr self, bridge_params params) {
  auto& st = self->state;
  st.coordinator = caf::actor_cast<caf::weak_actor_ptr>(params.coordinator);
  params.coordinator = nullptr;
  st.stats.node_id = params.node_id.empty() ? random_node_id() : params.node_id;
  st.channel = params.cfg.channel_prefix + params.cfg.channel;
  st.stream = params.cfg.channel_prefix + params.cfg.audit_stream;
  st.p = std::move(params);
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
  });
  self->attach_functor(
      [owned = st.owned, network = st.p.network, inbox = st.inbox, listening = st.p.cfg.listen] {
        if (listening && inbox)
          caf::anon_send(network, caf::unpublish_atom::value, inbox.address(), uint16_t{0});
        for (auto& a : owned)
          caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
      });
  return {
      [=](caf::publish_atom, invalidation& inv) { send_out(self, inv); },
      [=](apply_atom, invalidation& inv) { accept(self, std::move(inv)); },
      [=](apply_atom, const std::string& wire) { accept_payload(self, wire); },
      [=](retry_atom) { republish(self); },
      [=](join_atom, const caf::actor& who) {
        join(self, who);
        return ok_atom::value;
      },
      [=](caf::subscribe_atom, bool up, bool after_loss) {
        self->state.stats.redis_subscribed = up;
        if (up && after_loss) {
          ++self->state.stats.redis_reconnects;
          run_recovery(self, "the Redis subscription");
        }
      },
      [=](stats_atom) { return self->state.stats; },
  };
}

} // namespace

bridge_actor spawn_invalidation_bridge(caf::actor_system& sys, bridge_params params) {
  return sys.spawn(invalidation_bridge, std::move(params));
}

} // namespace mtcache::detail
