#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <caf/expected.hpp>
#include <caf/fwd.hpp>

#include "mtcache/messages/interfaces.hpp"

namespace mtcache {

namespace detail {
class read_view;
} // namespace detail

/// A synchronous read path into a cache's first tier, when that is an in-process memory
/// tier: `get` answers a hit from the calling thread, without a message (tens of
/// nanoseconds, where a get through the cache costs microseconds), or says "not here", and
/// the caller then asks the cache as usual (`get_local_first` does both).
///
/// What it guarantees: a hit is the key's live value (TTL and time-to-idle checked at the
/// read); once the cache acknowledged a set, remove, invalidation or update of the key,
/// local or from another node, no `get` that starts afterwards returns an older value. The
/// value stays valid for the caller however the cache changes meanwhile. Hits are counted in
/// the cache's stats (as requests and first-tier hits) and reach its eviction policy, through
/// bounded buffers that drop records under overload (never a read).
///
/// Copyable, cheap to pass around, thread-safe. An empty view (default, or for a cache
/// without a memory first tier) misses every key; so does the view of a stopped cache.
class l1_view {
public:
  l1_view() noexcept = default;

  explicit l1_view(std::shared_ptr<detail::read_view> impl) noexcept;

  /// The live value of `key` in the first tier, as the cache would answer a hit there.
  std::optional<lookup> get(std::string_view key) const;

  explicit operator bool() const noexcept { return impl_ != nullptr; }

private:
  static int64_t now_ms() noexcept;

  std::shared_ptr<detail::read_view> impl_;
};

/// The read view of `cache`, spawned by `spawn_cache` in `sys`; empty if its first tier is not
/// a memory tier. Takes a lock: look it up once, not per read.
l1_view find_l1_view(caf::actor_system& sys, const cache_actor& cache);

/// From inside an actor: answers `done(caf::expected<lookup>)` from `view` at once on a hit
/// (before this returns, in the caller's handler), else with a get request to `cache`,
/// whose reply arrives later in `self`'s context. A miss is `lookup{}`, as for a get.
template <class Self, class Done>
void get_local_first(Self* self, const cache_actor& cache, const l1_view& view,
                     const std::string& key, std::chrono::milliseconds timeout, Done done) {
  if (auto hit = view.get(key)) {
    done(caf::expected<lookup>{std::move(*hit)});
    return;
  }
  self->request(cache, timeout, get_atom::value, key)
      .then([=](lookup& res) mutable { done(caf::expected<lookup>{std::move(res)}); },
            [=](caf::error& err) mutable { done(caf::expected<lookup>{std::move(err)}); });
}

} // namespace mtcache
