#include "mtcache/store/epoch_domain.hpp"

namespace mtcache::detail {

namespace {

constexpr size_t no_slot = SIZE_MAX;

// This thread's slot, claimed on its first pin and given back when the thread ends.
struct thread_slot {
  size_t index = no_slot;
  bool claimed = false;
  uint32_t depth = 0;
  std::atomic<bool>* taken = nullptr;

  ~thread_slot() {
    if (taken)
      taken->store(false, std::memory_order_release);
  }
};

thread_local thread_slot this_thread_slot;

} // namespace

epoch_domain& epoch_domain::instance() {
  static epoch_domain domain;
  return domain;
}

epoch_domain::guard::guard() noexcept {
  instance().pin();
}

epoch_domain::guard::~guard() {
  instance().unpin();
}

void epoch_domain::pin() noexcept {
  auto& ts = this_thread_slot;
  if (ts.depth++ > 0)
    return;
  if (!ts.claimed) {
    ts.claimed = true;
    for (size_t i = 0; i < max_slots; ++i) {
      bool expected = false;
      if (!slots_[i].taken.load(std::memory_order_relaxed) &&
          slots_[i].taken.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
        ts.index = i;
        ts.taken = &slots_[i].taken;
        break;
      }
    }
  }
  if (ts.index == no_slot)
    overflow_readers_.fetch_add(1, std::memory_order_seq_cst);
  else
    slots_[ts.index].pinned.store(epoch_.load(std::memory_order_seq_cst),
                                  std::memory_order_seq_cst);
}

void epoch_domain::unpin() noexcept {
  auto& ts = this_thread_slot;
  if (--ts.depth > 0)
    return;
  // Release: the reads under the pin happen before the writer frees what they read.
  if (ts.index == no_slot)
    overflow_readers_.fetch_sub(1, std::memory_order_release);
  else
    slots_[ts.index].pinned.store(0, std::memory_order_release);
}

uint64_t epoch_domain::advance() noexcept {
  epoch_.fetch_add(1, std::memory_order_seq_cst);
  if (overflow_readers_.load(std::memory_order_seq_cst) > 0)
    return 0;
  uint64_t oldest = UINT64_MAX;
  for (auto& s : slots_) {
    auto pinned = s.pinned.load(std::memory_order_seq_cst);
    if (pinned != 0 && pinned < oldest)
      oldest = pinned;
  }
  return oldest;
}

} // namespace mtcache::detail
