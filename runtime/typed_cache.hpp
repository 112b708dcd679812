#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <caf/expected.hpp>

#include "mtcache/actors/callable_loader.hpp"
#include "mtcache/codec/typed_value.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/blocking_client.hpp"

namespace mtcache {

// Typed values over the byte cache: T is serialised with cereal (portable binary, inside a
// checksummed envelope, see codec/typed_value.hpp). Bytes that do not decode as T are a miss:
// the cache is told (it counts decode_failed and drops the key), never a crash or a key that
// fails forever.

/// Wraps a blocking function that computes a T as a loader (see spawn_callable_loader).
template <class T>
loader_actor spawn_typed_loader(caf::actor_system& sys,
                                std::function<caf::expected<T>(const std::string&)> fn,
                                callable_loader_config cfg = {}) {
  return spawn_callable_loader(
      sys,
      [fn = std::move(fn)](const std::string& key) -> caf::expected<bytes> {
        auto value = fn(key);
        if (!value)
          return std::move(value.error());
        return typed_value::encode(*value);
      },
      cfg);
}

/// Decodes a lookup's value as T; on failure reports the key to the cache through `report`
/// (a callable taking the key) and yields nothing.
template <class T, class Report>
std::optional<T> decode_or_report(const std::string& key, const lookup& res, Report report) {
  if (!res.found)
    return std::nullopt;
  std::string reason;
  auto value = typed_value::decode<T>(res.value, &reason);
  if (!value)
    report(key, reason);
  return value;
}

namespace typed {

/// Reads `key` as T: nothing on a miss or on bytes that do not decode.
template <class T>
caf::expected<std::optional<T>> get(blocking_cache& cache, const std::string& key) {
  auto res = cache.get(key);
  if (!res)
    return std::move(res.error());
  return decode_or_report<T>(key, *res, [&](const std::string& k, const std::string&) {
    cache.call<ok_atom>(corrupt_atom::value, k);
  });
}

template <class T>
caf::expected<write_ack> set(blocking_cache& cache, const std::string& key, const T& value,
                             strategy ttl = strategy::short_term()) {
  return cache.set(key, typed_value::encode(value), ttl);
}

/// Reads `key` as T or loads it once with `loader` (made by spawn_typed_loader). A cached
/// value that does not decode is dropped and loaded again; a loaded value that does not
/// decode fails with errc::decode_failed.
template <class T>
caf::expected<T> get_or_compute(blocking_cache& cache, const std::string& key, compute_options opts,
                                const loader_actor& loader) {
  std::string reason;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto res = cache.get_or_compute(key, opts, loader);
    if (!res)
      return std::move(res.error());
    auto value = decode_or_report<T>(key, *res, [&](const std::string& k, const std::string& why) {
      reason = why;
      cache.call<ok_atom>(corrupt_atom::value, k);
    });
    if (value)
      return std::move(*value);
  }
  return make_error(errc::decode_failed, "'" + key + "' does not decode: " + reason);
}

/// The same from inside an actor: calls `done(caf::expected<T>)` once, in `self`'s context.
template <class T, class Self, class Done>
void get_or_compute(Self* self, const cache_actor& cache, const std::string& key,
                    compute_options opts, const loader_actor& loader,
                    std::chrono::milliseconds timeout, Done done, int attempt = 0) {
  self->request(cache, timeout, compute_atom::value, key, opts, loader)
      .then(
          [=](lookup& res) mutable {
            std::string reason;
            auto value = decode_or_report<T>(
                key, res, [&](const std::string&, const std::string& why) { reason = why; });
            if (value) {
              done(caf::expected<T>{std::move(*value)});
              return;
            }
            self->request(cache, timeout, corrupt_atom::value, key)
                .then(
                    [=](ok_atom) mutable {
                      if (attempt == 0)
                        get_or_compute<T>(self, cache, key, opts, loader, timeout, std::move(done),
                                          1);
                      else
                        done(caf::expected<T>{make_error(
                            errc::decode_failed, "'" + key + "' does not decode: " + reason)});
                    },
                    [=](caf::error& err) mutable { done(caf::expected<T>{std::move(err)}); });
          },
          [=](caf::error& err) mutable { done(caf::expected<T>{std::move(err)}); });
}

} // namespace typed

} // namespace mtcache
