#include "mtcache/store/access_buffer.hpp"

#include <utility>

namespace mtcache::detail {

namespace {

std::atomic<size_t> next_stripe{0};

size_t this_thread_stripe() {
  thread_local const size_t index =
      next_stripe.fetch_add(1, std::memory_order_relaxed) % access_buffer::stripes;
  return index;
}

} // namespace

access_buffer::access_buffer() {
  for (auto& s : stripes_)
    for (size_t i = 0; i < ring_size; ++i)
      s.cells[i].seq.store(i, std::memory_order_relaxed);
}

bool access_buffer::record(const access_record& rec) noexcept {
  auto& s = stripes_[this_thread_stripe()];
  auto pos = s.tail.load(std::memory_order_relaxed);
  for (;;) {
    auto& c = s.cells[pos % ring_size];
    auto seq = c.seq.load(std::memory_order_acquire);
    auto diff = static_cast<int64_t>(seq - pos);
    if (diff == 0) {
      if (s.tail.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
        c.value = rec;
        c.seq.store(pos + 1, std::memory_order_release);
        if ((pos + 1) % drain_every == 0)
          request_drain();
        return true;
      }
    } else if (diff < 0) {
      s.drops.fetch_add(1, std::memory_order_relaxed);
      request_drain();
      return false;
    } else {
      pos = s.tail.load(std::memory_order_relaxed);
    }
  }
}

uint64_t access_buffer::hits() const noexcept {
  uint64_t n = 0;
  for (auto& s : stripes_)
    n += s.tail.load(std::memory_order_relaxed) + s.drops.load(std::memory_order_relaxed);
  return n;
}

uint64_t access_buffer::drops() const noexcept {
  uint64_t n = 0;
  for (auto& s : stripes_)
    n += s.drops.load(std::memory_order_relaxed);
  return n;
}

void access_buffer::on_drain_due(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock{callback_mtx_};
  drain_due_ = std::move(fn);
}

void access_buffer::request_drain() noexcept {
  if (drain_requested_.load(std::memory_order_relaxed) ||
      drain_requested_.exchange(true, std::memory_order_seq_cst))
    return;
  // Taken once per drain cycle, never on a reader's common path.
  std::lock_guard<std::mutex> lock{callback_mtx_};
  if (drain_due_)
    drain_due_();
}

} // namespace mtcache::detail
