#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>

namespace mtcache {

/// Every failure mtcache reports, as the code of a `caf::error` in category "mtcache".
/// Misses are not errors: lookups answer with `lookup{found = false}`.
enum class errc : uint8_t {
  /// A backend (Redis, a peer) cannot be reached or its connection is down.
  backend_unavailable = 1,
  /// An operation did not finish within its deadline.
  timeout,
  /// A key is empty, too long, or otherwise unusable.
  invalid_key,
  /// A value exceeds the configured maximum size.
  value_too_large,
  /// Stored bytes could not be decoded into the requested type.
  decode_failed,
  /// The operation needs a component that this cache was built without.
  not_configured,
  /// A configuration value is invalid; the context says which and why.
  invalid_config,
  /// A Redis URL could not be parsed; the context says why.
  invalid_url,
  /// A glob pattern is malformed, or matches everything without being allowed to.
  invalid_pattern,
  /// The loader of a `get_or_compute` failed; the context carries its error.
  loader_failed,
  /// A backend answered with an error reply; the context carries it.
  backend_error,
  /// A message failed authentication (missing or wrong signature).
  unauthenticated,
  /// A message could not be parsed or exceeds limits.
  malformed_message,
  /// The cache is shutting down.
  shutting_down,
  /// A write of a value read or loaded earlier was dropped: the key changed meanwhile.
  superseded,
  /// The tier cannot do this at all (memcached cannot remove keys by pattern); the context
  /// says what and why. Retrying will not help.
  not_supported,
};

/// The error category under which `errc` values travel inside `caf::error`.
constexpr caf::atom_value error_category = caf::atom("mtcache");

std::string to_string(errc x);

inline caf::error make_error(errc x) {
  return {static_cast<uint8_t>(x), error_category};
}

template <class T, class... Ts>
caf::error make_error(errc x, T&& context, Ts&&... more) {
  return {static_cast<uint8_t>(x), error_category,
          caf::make_message(std::forward<T>(context), std::forward<Ts>(more)...)};
}

/// Whether `err` carries `code` of our category.
inline bool is(const caf::error& err, errc code) {
  return err.category() == error_category && err.code() == static_cast<uint8_t>(code);
}

} // namespace mtcache
