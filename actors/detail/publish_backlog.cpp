#include "mtcache/actors/detail/publish_backlog.hpp"

#include <algorithm>
#include <utility>

namespace mtcache::detail {

void publish_backlog::hold(const invalidation& change) {
  auto seq = change.seq;
  auto from = change.from_seq == 0 ? seq : std::min(change.from_seq, seq);
  auto keep = [&](const std::string& key) {
    auto [i, added] = keys_.emplace(key, seq);
    if (!added) {
      ++compacted_;
      i->second = std::max(i->second, seq);
    }
  };
  switch (change.type) {
  case invalidation::kind::remove:
  case invalidation::kind::update:
    keep(change.key);
    break;
  case invalidation::kind::remove_bulk:
    for (auto& key : change.keys)
      keep(key);
    break;
  case invalidation::kind::remove_pattern:
  case invalidation::kind::remove_tag:
  case invalidation::kind::clear: {
    auto whole = change;
    whole.from_seq = 0;
    whole_.emplace(seq, std::move(whole));
    break;
  }
  }
  cover(from, seq);
  if (keys_.size() > max_keys_) {
    dropped_ += size();
    keys_.clear();
    whole_.clear();
    lo_ = hi_ = 0;
  }
}

void publish_backlog::settle(const std::string& key) {
  if (keys_.erase(key) > 0)
    ++compacted_;
}

std::vector<invalidation> publish_backlog::drain(size_t keys_per_message,
                                                 size_t bytes_per_message) {
  std::vector<invalidation> out;
  if (empty())
    return out;
  std::vector<std::pair<uint64_t, std::string>> keys;
  keys.reserve(keys_.size());
  for (auto& [key, seq] : keys_)
    keys.emplace_back(seq, key);
  std::sort(keys.begin(), keys.end());
  auto next_from = lo_;
  invalidation bulk;
  bulk.type = invalidation::kind::remove_bulk;
  size_t bulk_bytes = 0;
  auto emit = [&](invalidation msg, uint64_t seq) {
    msg.from_seq = next_from;
    msg.seq = seq;
    next_from = seq + 1;
    out.emplace_back(std::move(msg));
  };
  auto emit_bulk = [&](uint64_t seq) {
    emit(std::move(bulk), seq);
    bulk = invalidation{};
    bulk.type = invalidation::kind::remove_bulk;
    bulk_bytes = 0;
  };
  auto whole = whole_.begin();
  auto emit_whole_before = [&](uint64_t seq) {
    for (; whole != whole_.end() && whole->first < seq; ++whole) {
      if (!bulk.keys.empty())
        emit_bulk(whole->first - 1);
      invalidation msg;
      msg.type = whole->second.type;
      msg.key = std::move(whole->second.key);
      msg.pattern = std::move(whole->second.pattern);
      msg.removed_us = whole->second.removed_us;
      emit(std::move(msg), whole->first);
    }
  };
  for (auto& [seq, key] : keys) {
    emit_whole_before(seq);
    bulk_bytes += key.size();
    bulk.keys.emplace_back(std::move(key));
    if (bulk.keys.size() >= keys_per_message || bulk_bytes >= bytes_per_message)
      emit_bulk(seq);
  }
  emit_whole_before(hi_ + 1);
  // The last message covers the rest of the range, with an empty RemoveBulk if need be
  // (when every change at its end was replaced by a newer one that went out itself).
  if (!bulk.keys.empty() || next_from <= hi_)
    emit_bulk(hi_);
  keys_.clear();
  whole_.clear();
  lo_ = hi_ = 0;
  return out;
}

void publish_backlog::cover(uint64_t from, uint64_t seq) {
  lo_ = lo_ == 0 ? from : std::min(lo_, from);
  hi_ = std::max(hi_, seq);
}

} // namespace mtcache::detail
