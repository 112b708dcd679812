#pragma once

#include <chrono>
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

/// What a typed loader that chooses TTLs answers: the value and how long it lives (as
/// `loaded::ttl`: zero takes the call's TTL, negative never expires).
template <class T>
struct typed_loaded {
  T value;
  caf::timespan ttl{0};
};

/// As `spawn_typed_loader`, for a function that also chooses each value's TTL.
template <class T>
ttl_loader_actor
spawn_typed_ttl_loader(caf::actor_system& sys,
                       std::function<caf::expected<typed_loaded<T>>(const std::string&)> fn,
                       callable_loader_config cfg = {}) {
  return spawn_callable_ttl_loader(
      sys,
      [fn = std::move(fn)](const std::string& key) -> caf::expected<loaded> {
        auto res = fn(key);
        if (!res)
          return std::move(res.error());
        return loaded{typed_value::encode(res->value), res->ttl};
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

namespace detail {

/// From inside an actor: `then(caf::expected<std::optional<T>>)` gets the value of `res`
/// decoded as T, or nothing on a miss. Bytes that do not decode are reported to `cache`
/// first, as the blocking calls do; `then` gets errc::decode_failed once the cache answered
/// the report, or the report's error.
template <class T, class Self, class Then>
void decode_or_report_async(Self* self, const cache_actor& cache, const std::string& key,
                            const lookup& res, std::chrono::milliseconds timeout, Then then) {
  using result = caf::expected<std::optional<T>>;
  std::string reason;
  auto value = decode_or_report<T>(
      key, res, [&](const std::string&, const std::string& why) { reason = why; });
  if (value || !res.found) {
    then(result{std::move(value)});
    return;
  }
  auto failed = make_error(errc::decode_failed, "'" + key + "' does not decode: " + reason);
  self->request(cache, timeout, corrupt_atom::value, key)
      .then([=](ok_atom) mutable { then(result{failed}); },
            [=](caf::error& err) mutable { then(result{std::move(err)}); });
}

} // namespace detail

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

/// Reads `key` as T or loads it once with `loader` (made by spawn_typed_loader, or by
/// spawn_typed_ttl_loader). A cached value that does not decode is dropped and loaded again;
/// a loaded value that does not decode fails with errc::decode_failed.
template <class T, class Loader>
caf::expected<T> get_or_compute(blocking_cache& cache, const std::string& key, compute_options opts,
                                const Loader& loader) {
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

/// The same from inside an actor: calls `done(caf::expected<std::optional<T>>)` once, in
/// `self`'s context; nothing on a miss or on bytes that do not decode (reported first).
template <class T, class Self, class Done>
void get(Self* self, const cache_actor& cache, const std::string& key,
         std::chrono::milliseconds timeout, Done done) {
  using result = caf::expected<std::optional<T>>;
  self->request(cache, timeout, get_atom::value, key)
      .then(
          [=](lookup& res) mutable {
            // Reported or not, bytes that do not decode are a miss, as for the blocking get.
            auto as_miss = [done](result value) mutable {
              done(value ? std::move(value) : result{std::optional<T>{}});
            };
            detail::decode_or_report_async<T>(self, cache, key, res, timeout, std::move(as_miss));
          },
          [=](caf::error& err) mutable { done(result{std::move(err)}); });
}

/// The same from inside an actor: calls `done(caf::expected<write_ack>)` once, in `self`'s
/// context.
template <class T, class Self, class Done>
void set(Self* self, const cache_actor& cache, const std::string& key, const T& value, strategy ttl,
         std::chrono::milliseconds timeout, Done done) {
  self->request(cache, timeout, put_atom::value, key, typed_value::encode(value), ttl)
      .then([=](write_ack& ack) mutable { done(caf::expected<write_ack>{std::move(ack)}); },
            [=](caf::error& err) mutable { done(caf::expected<write_ack>{std::move(err)}); });
}

/// The same from inside an actor: calls `done(caf::expected<T>)` once, in `self`'s context.
template <class T, class Self, class Loader, class Done>
void get_or_compute(Self* self, const cache_actor& cache, const std::string& key,
                    compute_options opts, const Loader& loader, std::chrono::milliseconds timeout,
                    Done done, int attempt = 0) {
  self->request(cache, timeout, compute_atom::value, key, opts, loader)
      .then(
          [=](lookup& res) mutable {
            detail::decode_or_report_async<T>(
                self, cache, key, res, timeout, [=](caf::expected<std::optional<T>> value) mutable {
                  if (value && *value) {
                    done(caf::expected<T>{std::move(**value)});
                    return;
                  }
                  // A compute answers a value or an error: a miss is retried like bytes that
                  // do not decode.
                  auto err = value ? make_error(errc::decode_failed, "'" + key + "' has no value")
                                   : std::move(value.error());
                  if (is(err, errc::decode_failed) && attempt == 0)
                    get_or_compute<T>(self, cache, key, opts, loader, timeout, std::move(done), 1);
                  else
                    done(caf::expected<T>{std::move(err)});
                });
          },
          [=](caf::error& err) mutable { done(caf::expected<T>{std::move(err)}); });
}

} // namespace typed

} // namespace mtcache
