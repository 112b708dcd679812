#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/send.hpp>

#include "mtcache/messages/interfaces.hpp"
#include "mtcache/runtime/l1_view.hpp"

namespace mtcache {

namespace detail {

/// Work a blocking caller hands to its bridge actor: issue one request and fulfil a future.
struct bridge_job {
  std::function<void(caf::event_based_actor*)> run;
};

} // namespace detail

/// A synchronous face of a cache for code outside actors (main(), tests, thread pools).
/// Thread-safe; each call blocks its thread until the reply or the timeout.
///
/// A `get` that the cache's L1 read view can answer returns at once, without a message (see
/// `l1_view`). Every other call sends one message to a small bridge actor, which makes the
/// typed request and fulfils a std::promise: the fastest way in from a plain thread we
/// measured (about 5 µs at the median with `apply_recommended_scheduler`), where a
/// scoped_actor per call costs ~20x.
class blocking_cache {
public:
  blocking_cache(caf::actor_system& sys, cache_actor cache,
                 std::chrono::milliseconds timeout = std::chrono::seconds{5});
  ~blocking_cache();
  blocking_cache(const blocking_cache&) = delete;
  blocking_cache& operator=(const blocking_cache&) = delete;

  caf::expected<lookup> get(const std::string& key);
  caf::expected<write_ack> set(const std::string& key, bytes value,
                               strategy ttl = strategy::short_term());
  /// Writes with tags: `remove_by_tag` of any of them removes the value everywhere.
  caf::expected<write_ack> set(const std::string& key, bytes value, strategy ttl,
                               std::vector<std::string> tags);
  caf::expected<write_ack> remove(const std::string& key);
  caf::expected<uint64_t> remove_matching(const std::string& pattern);
  /// Removes every value written with `tag` until now, on every tier of every node.
  caf::expected<write_ack> remove_by_tag(const std::string& tag);
  /// Removes everything: every tier of this node, the local tiers of every other node.
  caf::expected<write_ack> clear();
  caf::expected<lookup> get_or_compute(const std::string& key, compute_options opts,
                                       loader_actor loader);
  /// As above, with a loader that chooses the TTL of what it loads.
  caf::expected<lookup> get_or_compute(const std::string& key, compute_options opts,
                                       ttl_loader_actor loader);
  /// Reads many keys in one pass over the tiers: results in the order of `keys`.
  caf::expected<bulk_lookup> get_many(const std::vector<std::string>& keys);
  /// As `get_many`, loading every key no tier has with one call of `loader`.
  caf::expected<bulk_lookup> get_or_compute_many(const std::vector<std::string>& keys,
                                                 compute_options opts, bulk_loader_actor loader);
  caf::expected<cache_stats> stats();
  /// Each tier's own counters, in tier order.
  caf::expected<std::vector<tier_stats>> tiers();
  caf::expected<health_report> health();

  const cache_actor& handle() const { return cache_; }
  /// The cache's L1 read view (empty if it has none); `get` tries it first.
  const l1_view& view() const { return view_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  /// Sends any request the cache understands and waits for a reply of type `R`.
  template <class R, class... Ts>
  caf::expected<R> call(Ts... xs) {
    std::promise<caf::expected<R>> done;
    auto result = done.get_future();
    auto args = std::make_tuple(std::move(xs)...);
    auto cache = cache_;
    auto timeout = timeout_;
    caf::anon_send(bridge_,
                   detail::bridge_job{[&done, cache, timeout, args](caf::event_based_actor* self) {
                     std::apply(
                         [&](const auto&... a) {
                           self->request(cache, timeout, a...)
                               .then([&done](R& x) { done.set_value(std::move(x)); },
                                     [&done](caf::error& err) { done.set_value(std::move(err)); });
                         },
                         args);
                   }});
    return result.get();
  }

private:
  cache_actor cache_;
  std::chrono::milliseconds timeout_;
  caf::actor bridge_;
  l1_view view_;
};

} // namespace mtcache

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mtcache::detail::bridge_job)
