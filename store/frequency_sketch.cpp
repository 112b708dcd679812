#include "mtcache/store/frequency_sketch.hpp"

#include <algorithm>

namespace mtcache::detail {

namespace {

// Caffeine: the table never shrinks below this many words (2 KB), so tiny caches still get
// a useful sketch.
constexpr uint64_t min_table_words = 256;

// Caffeine caps the table at 2^30 words (8 GB); we stop at 2^28 (2 GB).
constexpr uint64_t max_table_words = uint64_t{1} << 28;

// TinyLFU: age after W = 10 x capacity additions (Caffeine's `sampleSize`).
constexpr uint64_t sample_factor = 10;

// Doorkeeper bits per entry of capacity; with 2 probes a Bloom filter of 8 bits per key
// has a false-positive rate of about 5% when full.
constexpr uint64_t doorkeeper_bits_per_entry = 8;

// Tables below this many words index each row with 16 bits of one mix (see `locate`).
constexpr uint64_t small_table_words = uint64_t{1} << 14;

constexpr uint64_t low_bit_of_each_counter = 0x1111'1111'1111'1111;
constexpr uint64_t high_bits_cleared = 0x7777'7777'7777'7777;

uint64_t table_words_for(uint64_t capacity) {
  uint64_t words = min_table_words;
  while (words < capacity && words < max_table_words)
    words <<= 1;
  return words;
}

// splitmix64: output `n` (from 1) of the generator seeded with `seed`. Spreads a 32-bit key
// hash over 64 well-mixed bits, a different and independent-looking value for each `n`.
uint64_t mix(uint64_t seed, uint64_t n) {
  uint64_t z = seed + n * 0x9e37'79b9'7f4a'7c15u;
  z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9u;
  z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebu;
  return z ^ (z >> 31);
}

// The smallest of four counters without branches: which counter is least is a coin toss
// per request, and g++ 12 compiled std::min of them into jumps.
uint64_t least_of(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  auto lesser = [](uint64_t x, uint64_t y) { return y ^ ((x ^ y) & (0 - uint64_t{x < y})); };
  return lesser(lesser(a, b), lesser(c, d));
}

} // namespace

frequency_sketch::frequency_sketch(uint64_t capacity, bool doorkeeper)
    : use_doorkeeper_(doorkeeper) {
  capacity_ = capacity;
  // Unsized (Caffeine's "not initialized"): counts nothing, so a cache far from full does
  // not age a table on every few accesses.
  if (capacity == 0)
    return;
  auto words = table_words_for(capacity);
  table_.assign(words, 0);
  word_mask_ = words - 1;
  sample_size_ = sample_factor * std::max<uint64_t>(capacity, 1);
  additions_ = 0;
  if (use_doorkeeper_)
    doorkeeper_.assign(words * doorkeeper_bits_per_entry / 64, 0);
}

uint64_t frequency_sketch::default_sample_size() const {
  return sample_factor * capacity_;
}

void frequency_sketch::ensure_capacity(uint64_t capacity) {
  if (capacity <= capacity_)
    return;
  if (table_words_for(capacity) <= table_.size()) {
    // The table is big enough already: keep the counts, only age less often.
    capacity_ = capacity;
    sample_size_ = sample_factor * capacity;
    return;
  }
  *this = frequency_sketch{capacity, use_doorkeeper_};
}

inline frequency_sketch::slots frequency_sketch::locate(uint32_t hash) const {
  // Every row hashes on its own: keys that share a counter in one row rarely share one in
  // another, which is what the minimum over rows relies on. A row needs log2(words) bits
  // for its word and two for its group (a word holds 4 groups of 4 counters, one counter
  // of each group per row, as in Caffeine 2.x). Up to 2^14 words (capacity 16 384) the
  // four rows take 16 bits each of one 64-bit mix; larger tables take 32 bits each of two.
  // Written out row by row: as a loop, g++ 12 turned it into slower SSE shuffles.
  auto first = mix(hash, 1);
  uint32_t bits[depth];
  uint32_t group_shift;
  if (word_mask_ < small_table_words) {
    bits[0] = static_cast<uint32_t>(first) & 0xffff;
    bits[1] = static_cast<uint32_t>(first >> 16) & 0xffff;
    bits[2] = static_cast<uint32_t>(first >> 32) & 0xffff;
    bits[3] = static_cast<uint32_t>(first >> 48);
    group_shift = 14;
  } else {
    auto second = mix(hash, 2);
    bits[0] = static_cast<uint32_t>(first);
    bits[1] = static_cast<uint32_t>(first >> 32);
    bits[2] = static_cast<uint32_t>(second);
    bits[3] = static_cast<uint32_t>(second >> 32);
    group_shift = 30; // the table has at most 2^28 words
  }
  auto mask = static_cast<uint32_t>(word_mask_);
  return slots{{bits[0] & mask, bits[1] & mask, bits[2] & mask, bits[3] & mask},
               {(bits[0] >> group_shift) * 16, (bits[1] >> group_shift) * 16 + 4,
                (bits[2] >> group_shift) * 16 + 8, (bits[3] >> group_shift) * 16 + 12}};
}

void frequency_sketch::increment(uint32_t hash) {
  if (table_.empty())
    return;
  if (use_doorkeeper_ && !doorkeeper_test_and_set(hash)) {
    if (++additions_ >= sample_size_)
      age();
    return;
  }
  // Conservative update: raise only the counters at the key's current estimate. The rows
  // are unrolled by hand: this runs on every request, and the loop kept its indexes in
  // memory.
  auto s = locate(hash);
  uint64_t* w[depth] = {&table_[s.words[0]], &table_[s.words[1]], &table_[s.words[2]],
                        &table_[s.words[3]]};
  uint64_t c[depth] = {(*w[0] >> s.shifts[0]) & 15, (*w[1] >> s.shifts[1]) & 15,
                       (*w[2] >> s.shifts[2]) & 15, (*w[3] >> s.shifts[3]) & 15};
  auto least = least_of(c[0], c[1], c[2], c[3]);
  // Caffeine counts only increments that changed a counter, so saturated keys do not
  // hasten aging.
  if (least == 15)
    return;
  for (uint32_t i = 0; i < depth; ++i)
    *w[i] += static_cast<uint64_t>(c[i] == least) << s.shifts[i];
  if (++additions_ >= sample_size_)
    age();
}

uint32_t frequency_sketch::frequency(uint32_t hash) const {
  if (table_.empty())
    return 0;
  auto s = locate(hash);
  auto count = [&](uint32_t row) { return (table_[s.words[row]] >> s.shifts[row]) & 15; };
  auto least = static_cast<uint32_t>(least_of(count(0), count(1), count(2), count(3)));
  if (use_doorkeeper_ && doorkeeper_contains(hash))
    ++least;
  return least;
}

void frequency_sketch::age() {
  uint64_t odd = 0;
  for (auto& word : table_) {
    odd += static_cast<uint64_t>(__builtin_popcountll(word & low_bit_of_each_counter));
    word = (word >> 1) & high_bits_cleared;
  }
  // Halving truncates odd counters; Caffeine corrects the addition count by a quarter of
  // them (each key has four counters).
  additions_ = (additions_ - std::min(additions_, odd / 4)) / 2;
  std::fill(doorkeeper_.begin(), doorkeeper_.end(), 0);
}

std::pair<size_t, size_t> frequency_sketch::doorkeeper_bits(uint32_t hash) const {
  // An independent mix, so that doorkeeper collisions do not follow counter collisions.
  auto mixed = mix(hash, 3);
  auto mask = doorkeeper_.size() * 64 - 1;
  return {static_cast<size_t>(mixed) & mask, static_cast<size_t>(mixed >> 32) & mask};
}

bool frequency_sketch::doorkeeper_test_and_set(uint32_t hash) {
  bool present = doorkeeper_contains(hash);
  auto [a, b] = doorkeeper_bits(hash);
  doorkeeper_[a / 64] |= uint64_t{1} << (a % 64);
  doorkeeper_[b / 64] |= uint64_t{1} << (b % 64);
  return present;
}

bool frequency_sketch::doorkeeper_contains(uint32_t hash) const {
  auto [a, b] = doorkeeper_bits(hash);
  return ((doorkeeper_[a / 64] >> (a % 64)) & 1) && ((doorkeeper_[b / 64] >> (b % 64)) & 1);
}

} // namespace mtcache::detail
