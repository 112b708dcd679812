#pragma once

// Which changes of each sender a node has applied, and which it is missing.
//
// Every change a node sends carries (origin, epoch, seq): seq counts the sender's changes
// from 1 within one incarnation (epoch, its start time). A receiver that sees seq 7 after
// seq 4 knows 5 and 6 went missing: a message dropped for its size, a Pub/Sub connection
// that broke, a backlog the sender has not published yet. Both paths (Redis and CAF links)
// feed one tracker, so a change that arrives twice applies once, and a change that comes
// on either path fills the gap. A compacted backlog message stands for a whole range
// [from, seq] of the sender's changes.
//
// Per sender the tracker keeps a watermark (everything up to it is seen) and the ranges
// seen above it; a gap is open while ranges sit above the watermark. The bridge gives an
// open gap a grace period to fill, then replays the audit stream, and only if that does
// not fill it drops its local tiers and forgives the gap.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mtcache::detail {

class sequence_tracker {
public:
  enum class verdict : uint8_t {
    /// Some change the message stands for is new: apply it.
    fresh,
    /// Every change it stands for was seen already (it came on a second path).
    duplicate,
    /// From an earlier incarnation of its sender: apply only what cannot do harm.
    stale_epoch,
  };

  /// Senders tracked at most; past that the one heard from least recently is forgotten
  /// (a flood of made-up origins must not grow the table; what is forgotten can no
  /// longer show a gap).
  static constexpr size_t max_origins = 4096;

  /// Separate ranges above the watermark per sender at most. Past that the sender counts
  /// as lost (see `lost`): its gaps are too scattered to be worth filling one by one.
  static constexpr size_t max_ranges = 4096;

  /// Records a message of `origin` in `epoch` standing for its changes `from`..`seq`
  /// (`from` 0: only `seq`). `now_ms` dates a gap the message opens. A sender seen for the
  /// first time starts right below `from`: what it sent before this node listened is not
  /// this node's to miss. A new epoch starts from 0, so its first changes count as missing
  /// until they arrive.
  verdict record(std::string_view origin, uint64_t epoch, uint64_t from, uint64_t seq,
                 int64_t now_ms);

  /// Whether some sender has had a gap open since `since_ms` or earlier.
  bool gap_open_since(int64_t since_ms) const;

  bool has_gaps() const;

  /// The earliest time a still open gap opened, 0 if none is open.
  int64_t oldest_gap_ms() const;

  /// Changes known to be missing (the holes below each sender's highest seen change).
  uint64_t missing() const;

  /// Whether a sender overflowed `max_ranges` since the last `forgive`.
  bool lost() const { return lost_; }

  /// Treats every missing change as seen: after the node dropped its local tiers, nothing
  /// a missing change would have removed is left.
  void forgive();

  size_t origins() const { return origins_.size(); }

private:
  struct origin_state {
    uint64_t epoch = 0;
    uint64_t watermark = 0;
    // Seen ranges above watermark + 1, first -> last (inclusive), disjoint, not adjacent.
    std::map<uint64_t, uint64_t> above;
    int64_t gap_since_ms = 0;
    uint64_t last_heard = 0;
  };

  void evict_one();

  std::unordered_map<std::string, origin_state> origins_;
  uint64_t heard_ = 0;
  bool lost_ = false;
};

} // namespace mtcache::detail
