#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>

#include "mtcache/messages/bytes.hpp"
#include "mtcache/messages/strategy.hpp"

namespace mtcache {

/// The answer to a read. A miss is data (`found == false`), not an error.
struct lookup {
  lookup() = default;

  lookup(bool found, bytes value, int64_t ttl_ms = -1, uint32_t level = 0, bool stale = false)
      : found(found), value(std::move(value)), ttl_ms(ttl_ms), level(level), stale(stale) {
    // nop
  }

  bool found = false;
  bytes value;
  /// Remaining time to live in milliseconds; -1 when the value never expires.
  int64_t ttl_ms = -1;
  /// Level of the tier that had the value; 0 when a loader produced it.
  uint32_t level = 0;
  /// Set when fail-safe served an expired value because refreshing it failed.
  bool stale = false;
  /// The tags the value was written with (see `put` with tags), and when it was written
  /// (unix µs; 0 for a value without tags).
  std::vector<std::string> tags;
  int64_t created_us = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lookup& x) {
  return f(caf::meta::type_name("mtcache::lookup"), x.found, x.value, x.ttl_ms, x.level, x.stale,
           x.tags, x.created_us);
}

/// One tier that failed a write.
struct tier_failure {
  uint32_t level = 0;
  caf::error reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tier_failure& x) {
  return f(caf::meta::type_name("mtcache::tier_failure"), x.level, x.reason);
}

/// The answer to a write: it succeeded on `written` tiers and failed on the rest.
/// A write that fails on every tier is answered with an error instead.
struct write_ack {
  uint32_t written = 0;
  std::vector<tier_failure> failed;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_ack& x) {
  return f(caf::meta::type_name("mtcache::write_ack"), x.written, x.failed);
}

/// The answer to a batch of reads (see `batch_tier_actor`): one lookup per key, in order.
/// `failed` lists the positions the tier could not read; they are misses in `results`.
struct read_batch {
  std::vector<lookup> results;
  std::vector<uint32_t> failed;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, read_batch& x) {
  return f(caf::meta::type_name("mtcache::read_batch"), x.results, x.failed);
}

/// One write of a batch to a tier (see `batch_tier_actor`).
struct tier_write {
  std::string key;
  bytes value;
  caf::timespan ttl{0};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tier_write& x) {
  return f(caf::meta::type_name("mtcache::tier_write"), x.key, x.value, x.ttl);
}

/// Per-call options of `get_or_compute`.
struct compute_options {
  /// Lifetime of a computed value (scaled per tier by its ttl_scale).
  strategy ttl = strategy::short_term();
  /// Hard limit for the load; zero uses the cache's default. Waiters get `errc::timeout`.
  caf::timespan timeout{0};
  /// Fail-safe: when the load fails or times out and an expired value is still kept,
  /// answer with it (marked stale) instead of the error.
  bool fail_safe = false;
  /// With fail-safe: answer with the stale value after this long and let the load finish
  /// in the background. Zero disables the soft timeout.
  caf::timespan soft_timeout{0};
  /// Eager refresh (Caffeine's refreshAfterWrite, FusionCache's EagerRefresh): a hit on a
  /// value past this share of its TTL answers at once and starts one load in the background
  /// through the key's flight; nobody waits for it, and if it fails the value stays. The
  /// share is measured against `ttl` (scaled by the answering tier's ttl_scale), the TTL
  /// this call writes with. 0 disables it; otherwise it must be above 0 and below 1.
  double eager_refresh = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, compute_options& x) {
  return f(caf::meta::type_name("mtcache::compute_options"), x.ttl, x.timeout, x.fail_safe,
           x.soft_timeout, x.eager_refresh);
}

/// What a loader that chooses the TTL answers (see `ttl_loader_actor`).
struct loaded {
  loaded() = default;

  loaded(bytes value, caf::timespan ttl = caf::timespan{0}, std::vector<std::string> tags = {})
      : value(std::move(value)), ttl(ttl), tags(std::move(tags)) {
    // nop
  }

  bytes value;
  /// How long the value lives: zero takes the call's `compute_options::ttl`, a negative TTL
  /// means "never expires". Scaled per tier by its ttl_scale, as every TTL.
  caf::timespan ttl{0};
  /// Tags the value is written with, as `put` with tags writes them (`remove_by_tag`).
  std::vector<std::string> tags;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, loaded& x) {
  return f(caf::meta::type_name("mtcache::loaded"), x.value, x.ttl, x.tags);
}

} // namespace mtcache
