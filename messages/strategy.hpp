#pragma once

#include <chrono>
#include <cstdint>

#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>

namespace mtcache {

/// How long a written value lives. The named strategies carry the TTLs of the
/// multi-tier-cache crate so that mixed fleets agree on lifetimes.
struct strategy {
  enum class kind : uint8_t { real_time, short_term, medium_term, long_term, custom };

  kind k = kind::short_term;
  /// Only read for `kind::custom`; zero or negative means "never expires".
  caf::timespan custom_ttl{0};

  static strategy real_time() { return {kind::real_time, {}}; }     // 10 s
  static strategy short_term() { return {kind::short_term, {}}; }   // 5 min (the default)
  static strategy medium_term() { return {kind::medium_term, {}}; } // 1 h
  static strategy long_term() { return {kind::long_term, {}}; }     // 3 h
  static strategy custom(caf::timespan ttl) { return {kind::custom, ttl}; }

  /// The time to live this strategy stands for.
  caf::timespan ttl() const {
    using namespace std::chrono;
    switch (k) {
    case kind::real_time:
      return seconds{10};
    case kind::short_term:
      return minutes{5};
    case kind::medium_term:
      return hours{1};
    case kind::long_term:
      return hours{3};
    case kind::custom:
      break;
    }
    return custom_ttl;
  }

  friend bool operator==(const strategy& x, const strategy& y) {
    return x.k == y.k && (x.k != kind::custom || x.custom_ttl == y.custom_ttl);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, strategy& x) {
  return f(caf::meta::type_name("mtcache::strategy"), x.k, x.custom_ttl);
}

} // namespace mtcache
