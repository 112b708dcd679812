#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "support/redis_server.hpp"

namespace mtcache::testing {

/// A Redis Sentinel set for tests, as child processes on free loopback ports: a primary and
/// a replica (redis_server, `--replicaof`), and three sentinels (`redis-server <conf>
/// --sentinel`, each with its config file in a temporary directory) that monitor the primary
/// as `master_name` with quorum 2 and `down-after-milliseconds` 1000. Everything is killed
/// with the object. A missing binary fails `start` with a message saying which.
class redis_sentinel_set {
public:
  static constexpr const char* master_name = "mymaster";
  static constexpr size_t sentinel_count = 3;

  redis_sentinel_set() = default;
  ~redis_sentinel_set();
  redis_sentinel_set(const redis_sentinel_set&) = delete;
  redis_sentinel_set& operator=(const redis_sentinel_set&) = delete;

  /// Starts the data nodes and the sentinels and waits until every sentinel names the
  /// primary, sees the replica and knows the other two sentinels (a failover needs them).
  /// Returns false with the reason in `error()`.
  bool start();

  /// redis+sentinel://127.0.0.1:<s1>,…/mymaster/<db>, or with another master name.
  std::string url(int db = 0, const std::string& master = master_name) const;

  /// The data nodes: 0 started as primary, 1 as its replica.
  redis_server& node(size_t i) { return nodes_[i]; }

  /// Which data node sentinel `i` names as primary now; -1 if none of ours (or no answer).
  int primary_by(size_t i) const;

  /// Waits until every sentinel names data node `primary`, and that node reports itself
  /// master (a failover is over).
  bool wait_primary(size_t primary, std::chrono::milliseconds timeout);

  /// Resumes data node `i` (a paused old primary) and makes it a replica of the primary the
  /// sentinels name, as they would themselves only 8 s after it reports itself master
  /// (SENTINEL_PUBLISH_PERIOD * 4 in sentinel.c); returns whether it took the command.
  bool rejoin(size_t i);

  /// Waits until the sentinels agree on a primary that has a connected replica and can
  /// fail over again; returns whether they do.
  bool wait_settled(std::chrono::milliseconds timeout);

  uint16_t sentinel_port(size_t i) const { return sentinels_[i].port; }
  const std::string& error() const { return error_; }

private:
  struct sentinel {
    pid_t pid = -1;
    uint16_t port = 0;
  };

  bool start_sentinel(size_t i);
  void stop();

  std::array<redis_server, 2> nodes_;
  std::array<sentinel, sentinel_count> sentinels_;
  std::string dir_;
  std::string error_;
};

} // namespace mtcache::testing
