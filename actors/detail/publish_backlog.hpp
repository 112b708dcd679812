#pragma once

// Changes this node made that did not reach Redis yet, compacted for the moment it is back.
//
// A node that cannot publish keeps what it could not send. Sent one by one in the original
// order, 10 000 held changes took seconds and every new change queued behind them. Only
// the newest change per key matters, and since receivers may hold a newer value by then
// (read from a shared tier), every held change goes out as a removal: the backlog keeps
// the held keys (latest wins) and patterns, and sends them as a few RemoveBulk messages.
// Each message stands for a range of the node's sequence numbers, and together they cover
// every change that failed, so receivers see no gap; new changes go out at once beside it.
//
// Past `max_keys` held keys the backlog gives up: it drops what it holds and stops
// covering those changes, so receivers see an unfillable gap and recover (replay or clear)
// rather than keep entries this node can no longer name.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "mtcache/messages/invalidation.hpp"

namespace mtcache::detail {

class publish_backlog {
public:
  explicit publish_backlog(size_t max_keys = 100000) : max_keys_(max_keys) {}

  /// Holds a change that did not reach Redis (stamped with its sequence number; a compacted
  /// message that failed again is held with its whole range).
  void hold(const invalidation& change);

  /// A newer change of `key` reached Redis: the held one is moot (its range stays covered).
  void settle(const std::string& key);

  /// Nothing left to send.
  bool empty() const { return lo_ == 0; }

  /// Keys and patterns held.
  size_t size() const { return keys_.size() + whole_.size(); }

  /// Held changes that a later one of the same key replaced.
  uint64_t compacted() const { return compacted_; }

  /// Changes given up on because more than `max_keys` keys were held.
  uint64_t dropped() const { return dropped_; }

  /// Messages that send everything held, in sequence order: RemoveBulk messages of at most
  /// `keys_per_message` keys (and about `bytes_per_message` of them) and RemovePattern
  /// messages, whose [from_seq, seq] ranges together cover every held sequence number.
  /// Origin, epoch and time are the caller's to stamp. Empties the backlog.
  std::vector<invalidation> drain(size_t keys_per_message = 1000,
                                  size_t bytes_per_message = 256 * 1024);

private:
  void cover(uint64_t from, uint64_t seq);

  size_t max_keys_;
  // Key -> sequence number of its newest held change.
  std::unordered_map<std::string, uint64_t> keys_;
  // Changes that name no keys (patterns, tag removals, clears), kept whole by sequence number.
  std::map<uint64_t, invalidation> whole_;
  // The sequence numbers covered: lo_..hi_ (0 when empty).
  uint64_t lo_ = 0;
  uint64_t hi_ = 0;
  uint64_t compacted_ = 0;
  uint64_t dropped_ = 0;
};

} // namespace mtcache::detail
