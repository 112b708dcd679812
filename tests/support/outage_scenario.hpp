#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "support/redis_server.hpp"

namespace mtcache::testing {

/// A Redis outage under load, as a user running two nodes would meet it: both nodes have
/// L1 + L2 on one redis-server, Pub/Sub invalidation and `broadcast_on_write`; `threads`
/// threads (half per node) do get/put over `keys` keys, every put a new version of its
/// key. Redis is killed (and restarted empty) or frozen for `outage`, the load goes on for
/// `after` once it is back, then stops; `quiet` later the nodes and Redis are compared.
/// Shared by the chaos tests (which assert) and bench/outage_bench (which reports).
struct outage_options {
  enum class fault : uint8_t { kill, freeze };
  fault kind = fault::kill;
  std::chrono::milliseconds before{1000};
  std::chrono::milliseconds outage{5000};
  std::chrono::milliseconds after{3000};
  std::chrono::milliseconds quiet{2000};
  int threads = 8;
  uint32_t keys = 10000;
  /// Share of requests that are puts.
  double write_share = 0.2;
  /// The audit stream on, so that nodes can replay instead of dropping L1.
  bool audit = true;
  /// A read is stale if it returns a version older than one acknowledged on every tier
  /// more than this before the read began.
  std::chrono::milliseconds propagation_bound{250};
  /// Reads are checked from this long after Redis is back.
  std::chrono::milliseconds settle{100};
};

struct outage_report {
  /// Empty if the scenario ran; otherwise why not.
  std::string error;
  uint64_t reads = 0;
  uint64_t writes = 0;
  /// Writes acknowledged on every tier, on some tiers, and failed.
  uint64_t full_acks = 0;
  uint64_t partial_acks = 0;
  uint64_t failed_writes = 0;
  /// Reads checked (from `settle` after Redis is back), and those that were stale.
  uint64_t reads_checked = 0;
  uint64_t stale_reads = 0;
  /// The most a checked read lagged behind an acknowledged write, in ms.
  int64_t worst_lag_ms = 0;
  /// Keys compared after the quiet time, and those whose value differs between the nodes
  /// or between a node and Redis (where both hold one).
  uint64_t compared_keys = 0;
  uint64_t divergent_keys = 0;
  /// Times either node dropped its local tiers, and why: contact back without a position to
  /// replay from, a gap in another node's changes, the audit stream trimmed past a gap.
  uint64_t l1_flushes = 0;
  uint64_t flushes_reconnect = 0;
  uint64_t flushes_gap = 0;
  uint64_t flushes_trimmed = 0;
  /// From the bridges and coordinators of both nodes.
  uint64_t replays = 0;
  uint64_t repairs = 0;
  uint64_t backlog_messages = 0;
  /// Time from Redis being back until both nodes were subscribed again, in ms.
  int64_t resubscribed_ms = 0;
};

outage_report run_outage(redis_server& redis, const outage_options& opts);

} // namespace mtcache::testing
