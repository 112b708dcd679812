#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "mtcache/messages/bytes.hpp"

namespace mtcache {

/// One change that other nodes must apply to their local tiers. On Redis Pub/Sub it travels
/// as JSON compatible with the multi-tier-cache crate (see codec/invalidation_json.hpp);
/// between CAF nodes it travels as this struct.
struct invalidation {
  enum class kind : uint8_t { remove, update, remove_pattern, remove_bulk, remove_tag, clear };

  kind type = kind::remove;
  /// remove, update; remove_tag: the tag
  std::string key;
  /// remove_bulk
  std::vector<std::string> keys;
  /// remove_pattern (Redis MATCH glob)
  std::string pattern;
  /// update
  bytes value;
  /// update: time to live in ms, -1 for none (wire: "ttl_secs", rounded up, plus our "ttl_ms").
  int64_t ttl_ms = -1;
  /// remove_tag: when the tag was removed (unix µs at the origin); values written with it up
  /// to then are gone.
  int64_t removed_us = 0;
  /// Node id of the sender; empty when a foreign peer (e.g. the Rust crate) sent it.
  std::string origin;
  /// Per-origin sequence number, so a message that arrives on two paths applies once and a
  /// receiver notices one that never arrived. 0 from a sender without sequence numbers.
  uint64_t seq = 0;
  /// The sender's incarnation (its start time in unix ms): sequence numbers restart with it.
  uint64_t epoch = 0;
  /// This message stands for every change of the sender from `from_seq` to `seq` (a
  /// compacted backlog); 0 means only `seq`.
  uint64_t from_seq = 0;
  /// Unix time in ms at the origin; 0 if unknown.
  int64_t ts_ms = 0;
  /// The change says only that the keys changed, not when (a compacted backlog, a repair
  /// that reached a shared tier): receivers drop their copies and read the shared tier, but
  /// a change of theirs that is waiting for repair stays.
  bool reread = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, invalidation& x) {
  return f(caf::meta::type_name("mtcache::invalidation"), x.type, x.key, x.keys, x.pattern, x.value,
           x.ttl_ms, x.removed_us, x.origin, x.seq, x.epoch, x.from_seq, x.ts_ms, x.reread);
}

} // namespace mtcache
