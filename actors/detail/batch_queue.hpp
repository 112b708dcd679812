#pragma once

// Requests of one kind that wait to go out together, and the batches of them in flight.
// The coordinator queues sets (and reads of a Redis first tier) here while its mailbox still
// holds more work; a batch costs the coordinator and the tier one message each way instead of
// one per request. The queue decides nothing about when to send: its owner does (see
// tier_outbox). What it owns is the count of batches out and what happens when one comes
// back: the count drops and whatever gathered meanwhile goes out as the next batch.

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace mtcache::detail {

/// Requests per batch: bounds a batch message and how long its first request waits.
constexpr size_t max_batch = 256;

/// Batches of one kind in flight at a time. While that many are out, requests gather in the
/// queue and go out as the next batch when one comes back: under load batches grow with
/// the round trip instead of staying as small as one mailbox run (18 reads on average at
/// 1 024 outstanding without the bound, about 74 with it at 8). For Redis 4, 8 and 16
/// measured alike, 1 and 2 lost 10% at 256 outstanding. For memcached fewer batches out
/// means more requests per batch, and every batch costs the coordinator, the broker and
/// memcached a wake-up: the cache side of memcached_bench at 1 024 outstanding (interleaved
/// runs, 10 pairs) went from 824k to 912k gets/s and 745k to 760k sets/s with 3 instead of
/// 8; 3 and 4 measured alike.
constexpr size_t max_batches_out = 4;

template <class Request>
class batch_queue {
public:
  using batch = std::vector<Request>;

  /// Handed to the sender with each batch; call it once when the batch came back, answered
  /// or failed, after its requests are answered.
  class completion {
  public:
    explicit completion(batch_queue* queue) : queue_(queue) {}
    void operator()() const { queue_->came_back(); }

  private:
    batch_queue* queue_;
  };

  /// Sends one batch, shared by whatever the sending needs to keep until it comes back.
  using sender = std::function<void(std::shared_ptr<batch> requests, completion done)>;

  batch_queue() = default;

  explicit batch_queue(sender send) : send_(std::move(send)) {}

  // Completions of batches out point at the queue: it stays where it is.
  batch_queue(const batch_queue&) = delete;
  batch_queue& operator=(const batch_queue&) = delete;

  /// Hands the batches to `send` from now on; without a sender nothing is batched.
  void set_sender(sender send) { send_ = std::move(send); }

  /// Whether requests of this kind are batched at all.
  bool batching() const { return static_cast<bool>(send_); }

  void push(Request x) { queued_.push_back(std::move(x)); }

  bool empty() const { return queued_.empty(); }

  size_t size() const { return queued_.size(); }

  /// Batches sent and not come back yet.
  size_t out() const { return out_; }

  /// Another batch may go out without passing max_batches_out.
  bool has_room() const { return out_ < max_batches_out; }

  /// A full batch waits: it goes out even at the limit.
  bool full() const { return queued_.size() >= max_batch; }

  /// Sends what is queued as one batch, however many are out: order comes before the limit.
  void send() {
    if (queued_.empty())
      return;
    auto requests = std::make_shared<batch>(std::move(queued_));
    queued_.clear();
    // The next batch gathers about as many: room for them at once, rather than a vector
    // growing by doubling (9 reallocations, each moving every queued request, on the way to
    // max_batch) on the coordinator, whose worker thread the cache's throughput hangs on.
    queued_.reserve(requests->size());
    ++out_;
    send_(std::move(requests), completion{this});
  }

  /// Sends what is queued if fewer than max_batches_out batches are out.
  void send_if_room() {
    if (has_room())
      send();
  }

  /// Takes every queued request without sending it (the owner answers them itself).
  batch take() {
    batch out = std::move(queued_);
    queued_.clear();
    return out;
  }

private:
  // What gathered while the batch was out goes at once: waiting for the mailbox to run empty
  // again would leave the tier idle for a round trip.
  void came_back() {
    --out_;
    send();
  }

  sender send_;
  batch queued_;
  size_t out_ = 0;
};

} // namespace mtcache::detail
