#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

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
  /// Tags the value is written with (see `loaded::tags`).
  std::vector<std::string> tags = {};
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
        return loaded{typed_value::encode(res->value), res->ttl, std::move(res->tags)};
      },
      cfg);
}

/// Wraps a blocking function that loads many keys as T at once as a bulk loader (see
/// spawn_callable_bulk_loader). As Caffeine's loadAll, it answers the values it has by key;
/// a key it leaves out has no value (a miss, nothing cached).
template <class T>
bulk_loader_actor
spawn_typed_bulk_loader(caf::actor_system& sys,
                        std::function<caf::expected<std::unordered_map<std::string, T>>(
                            const std::vector<std::string>&)>
                            fn,
                        callable_loader_config cfg = {}) {
  return spawn_callable_bulk_loader(
      sys,
      [fn = std::move(fn)](
          const std::vector<std::string>& keys) -> caf::expected<std::vector<bulk_entry>> {
        auto found = fn(keys);
        if (!found)
          return std::move(found.error());
        std::vector<bulk_entry> out;
        out.reserve(keys.size());
        for (auto& key : keys) {
          auto i = found->find(key);
          out.push_back(i == found->end() ? bulk_entry::absent()
                                          : bulk_entry::of(typed_value::encode(i->second)));
        }
        return out;
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

/// As above, with tags (see `blocking_cache::remove_by_tag`).
template <class T>
caf::expected<write_ack> set(blocking_cache& cache, const std::string& key, const T& value,
                             strategy ttl, std::vector<std::string> tags) {
  return cache.set(key, typed_value::encode(value), ttl, std::move(tags));
}

/// Per key asked, in order: its value, nothing (a miss, or bytes that did not decode), or the
/// key's own error.
template <class T>
using typed_many = std::vector<caf::expected<std::optional<T>>>;

/// Reads many keys as T in one pass over the tiers (see `blocking_cache::get_many`). Bytes
/// that do not decode are reported and read as nothing, as for `get`.
template <class T>
caf::expected<typed_many<T>> get_many(blocking_cache& cache, const std::vector<std::string>& keys) {
  auto res = cache.get_many(keys);
  if (!res)
    return std::move(res.error());
  typed_many<T> out;
  out.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (res->errors[i]) {
      out.emplace_back(std::move(res->errors[i]));
      continue;
    }
    out.emplace_back(decode_or_report<T>(keys[i], res->results[i],
                                         [&](const std::string& k, const std::string&) {
                                           cache.call<ok_atom>(corrupt_atom::value, k);
                                         }));
  }
  return out;
}

/// Reads many keys as T, loading every missing one with one call of `loader` (made by
/// spawn_typed_bulk_loader); nothing for a key the loader has no value for. Cached bytes that
/// do not decode are dropped and their keys loaded again in one more call; a loaded value that
/// does not decode is errc::decode_failed for its key.
template <class T>
caf::expected<typed_many<T>>
get_or_compute_many(blocking_cache& cache, const std::vector<std::string>& keys,
                    compute_options opts, const bulk_loader_actor& loader) {
  typed_many<T> out(keys.size(), std::optional<T>{});
  std::vector<size_t> asking(keys.size());
  for (size_t i = 0; i < asking.size(); ++i)
    asking[i] = i;
  for (int attempt = 0; attempt < 2 && !asking.empty(); ++attempt) {
    std::vector<std::string> ask;
    for (auto i : asking)
      ask.push_back(keys[i]);
    auto res = cache.get_or_compute_many(ask, opts, loader);
    if (!res)
      return std::move(res.error());
    std::vector<size_t> again;
    for (size_t k = 0; k < asking.size(); ++k) {
      auto i = asking[k];
      if (res->errors[k]) {
        out[i] = std::move(res->errors[k]);
        continue;
      }
      std::string reason;
      auto value = decode_or_report<T>(keys[i], res->results[k],
                                       [&](const std::string& key, const std::string& why) {
                                         reason = why;
                                         cache.call<ok_atom>(corrupt_atom::value, key);
                                       });
      if (value || !res->results[k].found)
        out[i] = std::move(value);
      else if (attempt == 0)
        again.push_back(i);
      else
        out[i] = make_error(errc::decode_failed, "'" + keys[i] + "' does not decode: " + reason);
    }
    asking = std::move(again);
  }
  return out;
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
