#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace mtcache {

/// Where a tier sits in the chain and how values move into it.
struct tier_config {
  /// Position in the chain; levels must be strictly ascending from the first tier.
  uint32_t level = 1;
  /// Whether hits in lower tiers are copied into this tier.
  bool promotion = false;
  /// Promote with probability 1/N; N <= 1 promotes always.
  uint32_t promotion_frequency = 1;
  /// Multiplies the TTL of every value written or promoted into this tier.
  double ttl_scale = 1.0;
  /// A shared tier (Redis) is one store for all nodes: only the node that originates a change
  /// writes it; nodes that receive an invalidation leave it alone.
  bool shared = false;

  static tier_config as_l1() { return {1, false, 1, 1.0, false}; }
  static tier_config as_l2() { return {2, true, 10, 1.0, false}; }
  static tier_config as_l3() { return {3, true, 10, 2.0, false}; }
  static tier_config as_l4() { return {4, true, 10, 8.0, false}; }
  /// A tier at `level` with the defaults of the crate's `TierConfig::new`.
  static tier_config at_level(uint32_t level) { return {level, true, 10, 1.0, false}; }

  tier_config& with_promotion(bool on) { return promotion = on, *this; }
  tier_config& with_promotion_frequency(uint32_t n) { return promotion_frequency = n, *this; }
  tier_config& with_ttl_scale(double scale) { return ttl_scale = scale, *this; }
  tier_config& with_shared(bool on) { return shared = on, *this; }

  /// `ttl` as this tier keeps it: times ttl_scale; zero or less (no expiry) stays so.
  std::chrono::nanoseconds scale(std::chrono::nanoseconds ttl) const {
    if (ttl.count() <= 0)
      return std::chrono::nanoseconds{0};
    auto ns = static_cast<double>(ttl.count()) * ttl_scale;
    return std::chrono::nanoseconds{ns < 1 ? 1 : static_cast<int64_t>(ns)};
  }
};

enum class eviction_kind : uint8_t { tinylfu, lru };

/// The in-process memory tier.
struct memory_tier_config {
  /// Upper bound on the number of entries.
  uint64_t max_entries = 5000;
  /// Optional upper bound on the total weight (key + value bytes); 0 means unbounded.
  uint64_t max_weight = 0;
  eviction_kind eviction = eviction_kind::tinylfu;
  /// Remove an entry that was not read for this long; zero disables time-to-idle.
  std::chrono::milliseconds time_to_idle{0};
  /// How often expired entries are swept (reads also drop them lazily).
  std::chrono::milliseconds sweep_interval{1000};
  /// Keep expired entries this much longer, so fail-safe can serve them when a refresh
  /// fails. Zero drops them at expiry.
  std::chrono::milliseconds fail_safe_window{0};
};

/// The Redis tier.
/// A Redis Sentinel deployment given field by field, the same as a
/// `redis+sentinel://[user[:password]@]sentinels/master[/db]` URL (see redis_url.hpp): the
/// Redis tier (and the invalidation bus, when it takes the tier's Redis) then connects to
/// whichever node the sentinels report as primary of `master`, and follows failovers.
struct redis_sentinel_config {
  /// The sentinels, "host[:port]" (port 26379 by default); IPv6 hosts in brackets.
  std::vector<std::string> sentinels;
  /// The name the sentinels monitor the primary under; empty: no Sentinel.
  std::string master;
  /// Credentials of the Redis servers (AUTH), and the database to select.
  std::string user;
  std::string password;
  int db = 0;
  /// Credentials of the sentinels themselves, if they need any.
  std::string sentinel_user;
  std::string sentinel_password;
};

struct redis_tier_config {
  /// redis://[user:password@]host[:port][/db], unix:///path[?db=N] or
  /// redis+sentinel://sentinels/master[/db]. Empty: `sentinel` if it names a master, else
  /// the REDIS_URL environment variable, then redis://127.0.0.1:6379.
  std::string url;
  /// A Sentinel set given by fields instead of `url` (give one or the other).
  redis_sentinel_config sentinel;
  /// Prepended to every key this tier reads or writes (a namespace on a shared server).
  std::string key_prefix;
  /// A request not answered within this fails with `errc::timeout`, and the connection is
  /// dropped and re-established.
  std::chrono::milliseconds request_timeout{500};
  std::chrono::milliseconds connect_timeout{1000};
  /// Reconnect backoff: doubles from `backoff_initial` up to `backoff_max`, with jitter.
  /// The cap bounds how long after Redis is back writes still fail here (a refused
  /// connection costs Redis next to nothing, so it is short).
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{200};
  /// SCAN COUNT for pattern removal; matched keys are UNLINKed in batches of this size.
  uint32_t scan_count = 100;
};

/// The memcached tier (meta protocol, memcached 1.6 or later).
struct memcached_tier_config {
  /// memcache://host[:port], or several servers separated by commas
  /// (memcache://a:11211,b:11212); keys are spread over several servers by ketama
  /// consistent hashing, as libmemcached places them. Empty: the MEMCACHED_URL environment
  /// variable, then memcache://127.0.0.1:11211.
  std::string url;
  /// Prepended to every key (a namespace on a shared server); at most 128 bytes. With a
  /// prefix, `clear` is not supported (memcached cannot drop one namespace); without one,
  /// `clear` empties every server (flush_all).
  std::string key_prefix;
  /// A request not answered within this fails with `errc::timeout`, and the connection to
  /// that server is dropped and re-established.
  std::chrono::milliseconds request_timeout{500};
  std::chrono::milliseconds connect_timeout{1000};
  /// Reconnect backoff per server: doubles from `backoff_initial` up to `backoff_max`, with
  /// jitter.
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{200};
  /// The servers' item size limit (memcached -I, 1 MiB by default). A value that does not
  /// fit with its key and item header fails with `errc::value_too_large` without being sent,
  /// and its key is removed from the server, as memcached itself does with a value it
  /// cannot store (an older value must not stay behind). 0 leaves it to the servers.
  size_t max_item_bytes = 1024 * 1024;
};

/// What a node does when it may have missed changes of other nodes: after it lost contact
/// (a Redis resubscribe, a peer link re-established), or when a change it should have seen
/// did not arrive (a gap in a sender's sequence numbers).
enum class recovery_policy : uint8_t {
  /// Read what it missed from the audit stream and apply it. Only when the stream no longer
  /// holds it (trimmed by `audit_maxlen`), or without `audit`, drop the local tiers.
  replay,
  /// Drop every entry of the local (non-shared) tiers: they may be stale.
  clear,
  /// Keep them (only for data that tolerates staleness until its TTL).
  none,
};

/// Cross-node invalidation: over Redis Pub/Sub, over direct CAF links, or both.
struct invalidation_config {
  /// Subscribe and publish on Redis Pub/Sub.
  bool redis = false;
  /// Redis-assisted invalidation (needs `redis` and a Redis tier): the Redis tiers'
  /// connections turn on client-side caching (CLIENT TRACKING, broadcast mode) with their
  /// invalidations sent to this node's subscriber, so that a change any client makes to a
  /// tracked key (another program, redis-cli, an expiry) removes it from the local tiers.
  /// Needs the ACL channel permission `&__redis__:invalidate`.
  bool tracking = false;
  /// Tracked prefixes of stored names (key_prefix included). Empty: each Redis tier's
  /// key_prefix, or every key for a tier without one.
  std::vector<std::string> tracking_prefixes;
  /// Empty: the URL of the cache's Redis tier (or REDIS_URL, or redis://127.0.0.1:6379).
  std::string redis_url;
  std::string channel = "cache:invalidate";
  /// Prepended to the channel and the audit stream, so that caches sharing one Redis do not
  /// invalidate each other.
  std::string channel_prefix;
  /// Without `audit`, `replay` has nothing to read and acts as `clear`.
  recovery_policy recovery = recovery_policy::replay;
  /// Append every local change to a Redis stream (XADD, MAXLEN ~ audit_maxlen). Nodes that
  /// missed changes replay them from there (see `recovery`), so keep enough entries for the
  /// longest outage to ride out: at 1 000 changes/s, 10 000 entries last 10 seconds.
  bool audit = false;
  std::string audit_stream = "cache:invalidations";
  uint64_t audit_maxlen = 10000;
  /// Shared secret for HMAC-SHA256 signatures on Redis messages. When set, this node signs
  /// what it sends and drops unsigned or wrongly signed messages.
  std::string secret;
  /// Pattern invalidations from other nodes are applied only if the pattern starts with one
  /// of these prefixes; empty allows every pattern.
  std::vector<std::string> allowed_pattern_prefixes;
  /// Received messages above this are not applied as they are: an Update is applied as a
  /// removal of its key, whatever else is dropped (see `max_update_value_bytes`).
  size_t max_message_bytes = 1024 * 1024;
  /// An update or broadcast set whose value is larger travels as a removal: receivers
  /// read the value from a shared tier when they need it. Keeps every message far below
  /// `max_message_bytes` and Redis' Pub/Sub output buffer limit (32 MiB by default, which
  /// one oversized message past would disconnect every subscriber).
  size_t max_update_value_bytes = 64 * 1024;
  /// How long a gap in a sender's changes may stay open (the change may still come on
  /// another path, or in a backlog being published) before the node recovers.
  std::chrono::milliseconds gap_grace{200};
  /// Keys of changes this node could not publish that it keeps to publish once Redis is
  /// back; past this it gives them up (counted in `publish_errors`), and the other nodes
  /// see the gap and recover.
  size_t max_held_keys = 100000;
  /// The subscriber PINGs Redis this often; no answer within `request_timeout` of the Redis
  /// connection counts as a lost connection.
  std::chrono::milliseconds keepalive{1000};
  /// Accept peer links on this port (0: pick one, see bridge_stats::listen_port).
  bool listen = false;
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;
  /// Peers to link to, as "host:port".
  std::vector<std::string> peers;
  /// Run peer links over TLS (needs `enable_tls` on the actor system config).
  bool tls = false;
  std::chrono::milliseconds peer_connect_timeout{2000};
  std::chrono::milliseconds backoff_initial{50};
  /// Reconnect backoff of the subscriber and of peer links. The cap bounds how long after
  /// Redis is back this node may miss other nodes' changes.
  std::chrono::milliseconds backoff_max{200};

  bool enabled() const { return redis || listen || !peers.empty(); }
};

/// The Prometheus endpoint: `GET /metrics` over HTTP/1.1, served by an actor of the cache's
/// actor system. One endpoint per actor system shows every cache spawned in it.
struct metrics_config {
  bool enabled = false;
  /// Address to listen on; keep it on loopback or a private network (no authentication).
  std::string host = "127.0.0.1";
  /// 0 lets the system pick a free port (see `metrics_port`); 9464 is the port
  /// OpenTelemetry's Prometheus exporter uses by default.
  uint16_t port = 9464;
  /// Bound on one scrape's wait for a cache's counters.
  std::chrono::milliseconds scrape_timeout{2000};
  /// Connections held open at once; more are closed as they come.
  size_t max_connections = 64;
  /// A keep-alive connection with no request for this long is closed, so that clients that
  /// vanished do not hold the connections above. Prometheus scrapes every 15 s to 1 min by
  /// default, reuses its connection, and reconnects if it finds it closed.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};
};

/// Limits and defaults of the coordinator.
struct cache_options {
  size_t max_key_bytes = 1024;
  size_t max_value_bytes = 16 * 1024 * 1024;
  /// Deadline of every request from the coordinator to a tier.
  std::chrono::milliseconds tier_timeout{1000};
  /// Hard timeout of a `get_or_compute` load unless the call sets its own.
  std::chrono::milliseconds load_timeout{10000};
  /// Seed of the promotion draws; 0 seeds from the clock.
  uint64_t seed = 0;
  /// Publish every set and remove to other nodes (needs invalidation configured).
  bool broadcast_on_write = false;
  /// Whether pattern removal may use a pattern that matches every key.
  bool allow_match_all = false;
  /// Fail-safe for every get_or_compute, not only calls that ask for it.
  bool fail_safe = false;
  /// With CAF peer links up, a get_or_compute that misses every tier is loaded on the key's
  /// owner node (rendezvous hashing over this node and the peers it is linked with), which
  /// answers the waiters of every node from one load. Off: each node loads for itself.
  bool fleet_flights = true;
  /// How long a node waits for the owner's answer before it loads itself (the owner went
  /// down, is cut off or stalled). Zero: as long as the load may take (the call's timeout,
  /// else load_timeout) plus tier_timeout, so that only an owner that cannot answer is
  /// bypassed.
  std::chrono::milliseconds fleet_owner_wait{0};
  /// Without a fleet owner to hand a load to (no peers linked, or `fleet_flights` off), a
  /// get_or_compute that misses every tier first takes the key's load lease on the Redis
  /// tier (SET NX PX with a token of its own): one node in the fleet loads, the others wait
  /// for the value to appear in Redis. Needs a Redis tier (one server, Sentinel or a
  /// cluster). Redis failing, or the wait outlasting the load's timeout, makes the node load
  /// by itself: a lease never fails a get.
  bool load_lease = false;
  /// How long a lease holds (PX) if its holder neither releases it nor lives: the wait of
  /// the other nodes when a holder vanishes. At most the load's timeout (shorter is used).
  /// A load that takes longer than this may run a second time on another node.
  std::chrono::milliseconds load_lease_time{5000};
  /// How long a tag's removal time is kept: as the TTL of its key in the shared tiers and in
  /// each node's tag clock. Zero keeps it forever. Must be at least the longest TTL of any
  /// value written with tags: a value that outlives its tag's removal time is served again.
  std::chrono::milliseconds tag_retention{0};
};

} // namespace mtcache
