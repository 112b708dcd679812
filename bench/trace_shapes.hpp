// Request streams for `gen_trace`: the random source, Zipf popularity, and the shapes that
// the policy corpus (bench/policy_corpus) adds to the original kinds. Every stream is
// deterministic for its seed; a stream's keys are numbered from its `base`, so that a
// multiprogrammed mix keeps its programs' keys apart.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace gen {

// xoshiro256** seeded by splitmix64: fast, and the same sequence on every platform
// (unlike the std:: distributions).
class random_source {
public:
  explicit random_source(uint64_t seed) {
    for (auto& x : state_) {
      seed += 0x9e37'79b9'7f4a'7c15u;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9u;
      z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebu;
      x = z ^ (z >> 31);
    }
  }

  uint64_t next() {
    auto result = rotl(state_[1] * 5, 7) * 9;
    auto t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  /// Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform in [0, n).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>(unit() * static_cast<double>(n)); }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t state_[4];
};

// Draws ranks 0..n-1 with P(rank r) proportional to 1 / (r + 1)^s, by binary search in the
// cumulative distribution, and maps them through a random permutation, so that a key's
// number says nothing about its popularity.
class zipf_keys {
public:
  zipf_keys(uint64_t n, double s, random_source& rng) : cdf_(n), keys_(n) {
    double sum = 0;
    for (uint64_t r = 0; r < n; ++r) {
      sum += 1.0 / std::pow(static_cast<double>(r + 1), s);
      cdf_[r] = sum;
      keys_[r] = r;
    }
    for (auto& x : cdf_)
      x /= sum;
    for (uint64_t i = n; i > 1; --i)
      std::swap(keys_[i - 1], keys_[rng.below(i)]);
  }

  uint64_t rank(random_source& rng) const {
    auto it = std::lower_bound(cdf_.begin(), cdf_.end(), rng.unit());
    return std::min<uint64_t>(static_cast<uint64_t>(it - cdf_.begin()), cdf_.size() - 1);
  }

  /// The key of `rank` with the hot set moved by `shift` ranks.
  uint64_t key(uint64_t rank, uint64_t shift = 0) const {
    return keys_[(rank + shift) % keys_.size()];
  }

private:
  std::vector<double> cdf_;
  std::vector<uint64_t> keys_;
};

/// A source of keys, one per request.
class stream {
public:
  virtual ~stream() = default;

  virtual uint64_t next() = 0;
};

/// base, base + 1, ..., base + keys - 1, base, ...: a cyclic scan, which LRU misses entirely
/// once the loop is longer than the cache.
class loop_stream final : public stream {
public:
  loop_stream(uint64_t keys, uint64_t base) : keys_(keys), base_(base) {}

  uint64_t next() override { return base_ + i_++ % keys_; }

private:
  uint64_t keys_;
  uint64_t base_;
  uint64_t i_ = 0;
};

/// Zipf popularity whose ranking moves by `jump` ranks every `period` requests (never, if
/// 0): the hottest keys cool down and others heat up, a hot set that drifts.
class zipf_stream final : public stream {
public:
  zipf_stream(uint64_t keys, double s, uint64_t period, uint64_t jump, uint64_t base, uint64_t seed)
      : rng_(seed), zipf_(keys, s, rng_), period_(period), jump_(jump), base_(base) {}

  uint64_t next() override {
    auto shift = period_ == 0 ? 0 : i_ / period_ * jump_;
    ++i_;
    return base_ + zipf_.key(zipf_.rank(rng_), shift);
  }

private:
  random_source rng_;
  zipf_keys zipf_;
  uint64_t period_;
  uint64_t jump_;
  uint64_t base_;
  uint64_t i_ = 0;
};

/// Temporal locality: a share `fresh` of the requests ask for a key never seen before; the
/// others repeat the key requested d requests ago, with P(d > x) = (x / reach)^-alpha
/// (Pareto from `reach`). A small alpha reaches far back, a large one mostly repeats the
/// last `reach` keys. Recency is all there is to learn, which is where LRU is at its best.
class recency_stream final : public stream {
public:
  recency_stream(double alpha, double reach, double fresh, uint64_t base, uint64_t seed)
      : rng_(seed), alpha_(alpha), reach_(reach), fresh_(fresh), base_(base),
        history_(history_size) {}

  uint64_t next() override {
    uint64_t key = 0;
    auto far = reach_ * std::pow(1.0 - rng_.unit(), -1.0 / alpha_);
    auto d = static_cast<uint64_t>(std::min(far, 2.0 * history_size));
    if (i_ == 0 || rng_.unit() < fresh_ || d > std::min<uint64_t>(i_, history_size))
      key = base_ + next_key_++;
    else
      key = history_[(i_ - std::max<uint64_t>(d, 1)) % history_size];
    history_[i_++ % history_size] = key;
    return key;
  }

private:
  static constexpr uint64_t history_size = uint64_t{1} << 20;

  random_source rng_;
  double alpha_;
  double reach_;
  double fresh_;
  uint64_t base_;
  std::vector<uint64_t> history_;
  uint64_t next_key_ = 0;
  uint64_t i_ = 0;
};

/// Each request comes from one of `parts`, picked at random with the given weights; a
/// part keeps the requests for `burst` requests in a row (a time slice of one program).
class mix_stream final : public stream {
public:
  mix_stream(std::vector<std::pair<double, std::unique_ptr<stream>>> parts, uint64_t burst,
             uint64_t seed)
      : parts_(std::move(parts)), burst_(std::max<uint64_t>(burst, 1)), rng_(seed) {
    for (auto& part : parts_)
      total_ += part.first;
  }

  uint64_t next() override {
    if (left_ == 0) {
      auto x = rng_.unit() * total_;
      current_ = 0;
      while (current_ + 1 < parts_.size() && x >= parts_[current_].first)
        x -= parts_[current_++].first;
      left_ = burst_;
    }
    --left_;
    return parts_[current_].second->next();
  }

private:
  std::vector<std::pair<double, std::unique_ptr<stream>>> parts_;
  uint64_t burst_;
  random_source rng_;
  double total_ = 0;
  size_t current_ = 0;
  uint64_t left_ = 0;
};

} // namespace gen
