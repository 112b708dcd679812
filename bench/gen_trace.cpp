// Writes a synthetic key trace for `hit_ratio`: one decimal key per line, deterministic
// for a seed.
//
//   zipf   keys drawn from a Zipf distribution with exponent --s over --keys keys
//   scan   the zipf hot set, interrupted by --scans (7) sequential scans of one-off keys
//          that make --scan-share (0.32) of the requests
//   shift  zipf whose hot set moves to other keys every fifth of the trace
//   loop   0, 1, ..., keys-1, 0, 1, ...: a cyclic scan (use keys a bit above capacity)
//   twice  every key is requested twice, the second time 1..--gap requests later (64)

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <queue>
#include <string>
#include <utility>
#include <vector>

namespace {

struct options {
  std::string kind = "zipf";
  uint64_t keys = 100000;
  uint64_t requests = 1000000;
  double s = 0.99;
  uint64_t seed = 1;
  // Seven scans making 32% of the requests: LRU and OPT then land where the reference
  // figures for scan traces put them (0.330 / 0.443 at capacity 1000).
  uint64_t scans = 7;
  double scan_share = 0.32;
  uint64_t gap = 64;
};

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

class trace_writer {
public:
  void add(uint64_t key) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + key % 10);
      key /= 10;
    } while (key > 0);
    while (n > 0)
      buffer_.push_back(digits[--n]);
    buffer_.push_back('\n');
    if (buffer_.size() > (1 << 20))
      flush();
  }

  void flush() {
    std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
    buffer_.clear();
  }

private:
  std::string buffer_;
};

void generate(const options& opt, trace_writer& out) {
  random_source rng{opt.seed};
  if (opt.kind == "loop") {
    for (uint64_t i = 0; i < opt.requests; ++i)
      out.add(i % opt.keys);
    return;
  }
  if (opt.kind == "twice") {
    // (due position, key) of second requests still to come, earliest first.
    using pending = std::pair<uint64_t, uint64_t>;
    std::priority_queue<pending, std::vector<pending>, std::greater<>> repeats;
    uint64_t next_key = 0;
    for (uint64_t i = 0; i < opt.requests; ++i) {
      if (!repeats.empty() && repeats.top().first <= i) {
        out.add(repeats.top().second);
        repeats.pop();
        continue;
      }
      auto key = next_key++ % opt.keys;
      out.add(key);
      repeats.emplace(i + 1 + rng.below(opt.gap), key);
    }
    return;
  }
  zipf_keys zipf{opt.keys, opt.s, rng};
  if (opt.kind == "zipf") {
    for (uint64_t i = 0; i < opt.requests; ++i)
      out.add(zipf.key(zipf.rank(rng)));
  } else if (opt.kind == "shift") {
    for (uint64_t i = 0; i < opt.requests; ++i) {
      auto fifth = i * 5 / opt.requests;
      out.add(zipf.key(zipf.rank(rng), fifth * (opt.keys / 5)));
    }
  } else {
    // scan: each cycle is a hot phase followed by a scan of `scan_share` of the cycle.
    uint64_t scan_key = opt.keys; // one-off keys, above the hot set's range
    for (uint64_t cycle = 0; cycle < opt.scans; ++cycle) {
      auto begin = opt.requests * cycle / opt.scans;
      auto end = opt.requests * (cycle + 1) / opt.scans;
      auto hot_end =
          begin + static_cast<uint64_t>(static_cast<double>(end - begin) * (1 - opt.scan_share));
      for (auto i = begin; i < hot_end; ++i)
        out.add(zipf.key(zipf.rank(rng)));
      for (auto i = hot_end; i < end; ++i)
        out.add(scan_key++);
    }
  }
}

bool parse(int argc, char** argv, options& opt) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string name = argv[i];
    const char* value = argv[i + 1];
    if (name == "--kind")
      opt.kind = value;
    else if (name == "--keys")
      opt.keys = std::strtoull(value, nullptr, 10);
    else if (name == "--requests")
      opt.requests = std::strtoull(value, nullptr, 10);
    else if (name == "--s")
      opt.s = std::strtod(value, nullptr);
    else if (name == "--seed")
      opt.seed = std::strtoull(value, nullptr, 10);
    else if (name == "--scan-share")
      opt.scan_share = std::strtod(value, nullptr);
    else if (name == "--scans")
      opt.scans = std::strtoull(value, nullptr, 10);
    else if (name == "--gap")
      opt.gap = std::strtoull(value, nullptr, 10);
    else
      return false;
  }
  const char* kinds[] = {"zipf", "scan", "shift", "loop", "twice"};
  return argc % 2 == 1 && opt.keys > 0 && opt.scans > 0 && opt.scan_share >= 0 &&
         opt.scan_share <= 1 && opt.gap > 0 &&
         std::any_of(std::begin(kinds), std::end(kinds),
                     [&](const char* k) { return opt.kind == k; });
}

} // namespace

int main(int argc, char** argv) {
  options opt;
  if (!parse(argc, argv, opt)) {
    std::fprintf(
        stderr,
        "usage: gen_trace --kind zipf|scan|shift|loop|twice --keys K --requests N\n"
        "                 [--s 0.99] [--seed S] [--scans N] [--scan-share F] [--gap G] > file\n");
    return 2;
  }
  trace_writer out;
  generate(opt, out);
  out.flush();
  return 0;
}
