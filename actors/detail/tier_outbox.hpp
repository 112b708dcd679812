#pragma once

// Everything the coordinator sends to its tiers leaves through the outbox, which keeps the
// order: each tier receives reads, writes and removals in the order the coordinator received
// them (reads may pass reads), although sets (and reads of a Redis first tier) wait in
// queues to go out in batches.
// A request names what it must not pass (tier_order) and the outbox sends whatever is queued
// ahead of it first, so no handler has to remember to. Only one queue holds anything at a
// time: a read sends the queued sets, a set sends the queued reads.
//
// When a queue goes: at once when the request is alone in the mailbox or the queue is full;
// otherwise behind what waits in the mailbox (a flush message the coordinator sends itself);
// or, with max_batches_out batches of its kind in flight, when one of them comes back.

#include <cstdint>
#include <string>
#include <utility>

#include <caf/message.hpp>
#include <caf/result.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "mtcache/actors/detail/batch_queue.hpp"
#include "mtcache/messages/detail/flight_protocol.hpp"

namespace mtcache::detail {

/// A read of the first tier waiting to go out in the next batch. `context` comes back with a
/// miss: empty for a get, (compute_options, loader) for get_or_compute.
struct queued_read {
  std::string key;
  caf::typed_response_promise<lookup> rp;
  caf::message context;
};

/// A set waiting to go out in the next batch.
struct queued_write {
  std::string key;
  bytes value;
  caf::timespan ttl;
  bool broadcast;
  caf::typed_response_promise<write_ack> rp;
};

/// What a request to a tier must not pass among the queued ones.
enum class tier_order : uint8_t {
  /// A read goes after queued sets; reads may pass each other.
  read,
  /// A set goes after queued reads (and after queued sets, in their queue).
  write,
  /// Removals, fills, other nodes' changes, recovery: after everything queued.
  change,
  /// Stats and health say nothing about keys, and a queued batch going out is what the
  /// queue's order is: nothing queued is ahead of these.
  unordered,
};

class tier_outbox {
public:
  using self_pointer = coordinator_actor::pointer;

  /// Reads of the first tier go out in batches through `send` from now on.
  void batch_reads(batch_queue<queued_read>::sender send) { reads_.set_sender(std::move(send)); }

  /// Sets go out in batches through `send` from now on.
  void batch_writes(batch_queue<queued_write>::sender send) { writes_.set_sender(std::move(send)); }

  bool batches_writes() const { return writes_.batching(); }

  /// Sends whatever is queued that a request of kind `order` must not pass. Every request to
  /// a tier calls this before it goes out (fan_out, and the members below).
  void send_ahead_of(tier_order order) {
    switch (order) {
    case tier_order::read:
      writes_.send();
      break;
    case tier_order::write:
      reads_.send();
      break;
    case tier_order::change:
      writes_.send();
      reads_.send();
      break;
    case tier_order::unordered:
      break;
    }
  }

  /// Whether a read sent now would wait for the next batch (see `read`).
  bool reads_batched(self_pointer self);

  /// Reads `key` from the first tier `first`, which answers a hit itself and passes a miss
  /// back with `context`. Passed on at once when reads are not batched, or nothing waits
  /// behind it and no batch of reads is out; queued for the next batch otherwise.
  caf::result<lookup> read(self_pointer self, const tier_actor& first, const std::string& key,
                           caf::message context);

  /// Queues a set for the next batch (only when sets are batched).
  void write(self_pointer self, queued_write w);

  /// Passes the request being handled on to `tier`, which answers the requester.
  template <class... Ts>
  auto pass_on(self_pointer self, tier_order order, const tier_actor& tier, Ts&&... xs) {
    send_ahead_of(order);
    return self->delegate(tier, std::forward<Ts>(xs)...);
  }

  /// The flush message the outbox sent itself arrived: sends each queue that has room.
  void flush();

  /// Answers every queued request with `reason` (the coordinator exits).
  void fail_queued(const caf::error& reason);

private:
  template <class Request>
  void send_later(self_pointer self, batch_queue<Request>& queue);

  batch_queue<queued_read> reads_;
  batch_queue<queued_write> writes_;
  bool flush_sent_ = false;
};

} // namespace mtcache::detail
