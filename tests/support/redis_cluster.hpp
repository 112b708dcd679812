#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/redis_server.hpp"

namespace mtcache::testing {

/// A Redis Cluster of redis-server children on free loopback ports, for tests and benchmarks:
/// `primaries` primaries with `replicas` replicas each, joined by `redis-cli --cluster create`,
/// their node files in a temporary directory removed with the object. Nodes are numbered
/// 0..size()-1 for good (a promoted replica keeps its number); which are primaries is asked
/// of the cluster each time. Plain library code (no GoogleTest), so the benchmarks use it too.
class redis_cluster {
public:
  static constexpr int slot_count = 16384;

  struct options {
    int primaries = 3;
    int replicas = 1;
    /// cluster-node-timeout: how long a silent primary stays up before its replica takes
    /// over (the failover itself adds about half of it again).
    std::chrono::milliseconds node_timeout{1000};
  };

  redis_cluster() = default;
  ~redis_cluster();
  redis_cluster(const redis_cluster&) = delete;
  redis_cluster& operator=(const redis_cluster&) = delete;

  /// Starts the nodes, creates the cluster and waits until every node reports
  /// `cluster_state:ok` and all agree on the owner of every slot. Returns false with the
  /// reason in `error()` (redis-server or redis-cli missing, a node not starting, no
  /// agreement within the deadline).
  bool start(options opts);
  bool start() { return start(options{}); }

  const std::string& error() const { return error_; }

  /// redis+cluster://127.0.0.1:p1[,127.0.0.1:p2] with the first `seeds` running nodes.
  std::string url(size_t seeds = 2) const;

  size_t size() const { return nodes_.size(); }
  redis_server& node(size_t index) { return *nodes_[index]; }
  uint16_t port(size_t index) const { return nodes_[index]->port(); }

  /// Nodes serving slots right now, as a running node sees it, in slot order.
  std::vector<size_t> primaries() const;

  /// The node that serves `slot`, as a running node sees it.
  std::optional<size_t> node_of_slot(int slot) const;

  /// CLUSTER KEYSLOT of `key` (-1 if no node answers).
  int slot_of(const std::string& key) const;

  /// Runs `argv` on the node that serves `key` (rendered as redis_server::command does).
  std::string command_for_key(const std::string& key, const std::vector<std::string>& argv) const;

  /// GET of every key as the cluster holds it, in order: one pipeline per primary (fast for
  /// thousands of keys), a key whose slot moved meanwhile asked again of its new owner.
  std::vector<std::string> values_of(const std::vector<std::string>& keys) const;

  /// Runs `argv` on every primary and returns the replies.
  std::vector<std::string> on_primaries(const std::vector<std::string>& argv) const;

  /// Keys on all primaries (DBSIZE summed).
  uint64_t key_count() const;

  /// SIGKILL; the node files stay, so `restart` brings the node back into the cluster.
  void kill(size_t index) { nodes_[index]->kill(); }
  bool restart(size_t index) { return nodes_[index]->restart(); }
  void pause(size_t index) { nodes_[index]->pause(); }
  void resume(size_t index) { nodes_[index]->resume(); }

  /// Waits until every running node reports `cluster_state:ok`, every slot has an owner that
  /// runs, and all running nodes agree on the owners. Sets `error()` on failure.
  bool wait_healthy(std::chrono::milliseconds timeout = std::chrono::seconds{20});

  /// Waits until every replica of every primary has acknowledged all its primary's writes
  /// (INFO replication offsets equal): a failover then loses nothing acknowledged.
  bool wait_replicated(std::chrono::milliseconds timeout = std::chrono::seconds{10});

  /// CLUSTER MYID of a node.
  std::string id_of(size_t index) const;

  /// One slot moved live from one primary to another, step by step, as redis-cli does it:
  /// `begin` marks it IMPORTING on the target and MIGRATING on the source (from then on the
  /// source answers ASK for keys it no longer has), `move_keys` MIGRATEs up to `batch` keys
  /// of it, `finish` moves what is left and assigns the slot to the target on every primary.
  /// Each returns false with the reason in `error()`.
  class slot_migration {
  public:
    slot_migration(redis_cluster& cluster, int slot, size_t from, size_t to);
    bool begin();
    /// Moves up to `batch` keys; `moved` (if given) receives how many.
    bool move_keys(size_t batch, size_t* moved = nullptr);
    bool finish();
    const std::string& error() const { return error_; }
    int slot() const { return slot_; }
    size_t source() const { return from_; }
    size_t target() const { return to_; }

  private:
    redis_cluster& cluster_;
    int slot_;
    size_t from_;
    size_t to_;
    std::string error_;
  };

  /// Moves `slots` (numbers) from their owner `from` to `to`, each with slot_migration.
  bool migrate_slots(const std::vector<int>& slots, size_t from, size_t to);

  /// The first `count` slots `from` serves.
  std::vector<int> slots_of(size_t from, size_t count) const;

  /// `redis-cli --cluster reshard`: moves `count` slots from `from` to `to` in bulk.
  bool reshard(size_t from, size_t to, int count);

private:
  struct slot_range {
    int first;
    int last;
    uint16_t port;
  };
  /// Owners of slots as node `index` sees them (CLUSTER NODES); empty if it does not answer.
  std::vector<slot_range> slot_map(size_t index) const;
  std::optional<size_t> index_of_port(uint16_t port) const;
  std::optional<size_t> any_running() const;
  /// Runs a program to its end within `timeout_s`, its stdout and stderr into `output`.
  bool run(const std::string& command_line, int timeout_s, std::string& output);

  std::vector<std::unique_ptr<redis_server>> nodes_;
  std::string dir_;
  std::string error_;
};

} // namespace mtcache::testing
