#include "mtcache/runtime/detail/cache_catalog.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include <caf/abstract_actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "mtcache/actors/detail/metrics_endpoint.hpp"
#include "mtcache/messages/error.hpp"

namespace mtcache::detail {

namespace {

template <class Handle>
Handle upgrade(const caf::weak_actor_ptr& weak) {
  return caf::actor_cast<Handle>(caf::actor_cast<caf::strong_actor_ptr>(weak));
}

// Whether the endpoint took `cache` on; false if it exited meanwhile.
bool join(caf::actor_system& sys, const caf::actor& endpoint, const cache_actor& cache) {
  caf::scoped_actor self{sys};
  bool joined = false;
  self->request(endpoint, std::chrono::seconds(5), join_atom::value,
                caf::actor_cast<caf::actor>(cache))
      .receive([&](ok_atom) { joined = true; }, [&](caf::error&) {});
  return joined;
}

} // namespace

cache_catalog& cache_catalog::instance() {
  static cache_catalog catalog;
  return catalog;
}

void cache_catalog::prune() {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [](const entry& e) { return !upgrade<caf::actor>(e.handle); }),
                 entries_.end());
  endpoints_.erase(std::remove_if(endpoints_.begin(), endpoints_.end(),
                                  [](const endpoint& e) { return !upgrade<caf::actor>(e.handle); }),
                   endpoints_.end());
}

std::string cache_catalog::add(caf::actor_system& sys, std::string name, const cache_actor& cache,
                               std::shared_ptr<read_view> view) {
  std::lock_guard<std::mutex> guard{mtx_};
  prune();
  if (name.empty())
    name = "cache";
  auto taken = [&](const std::string& candidate) {
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](const entry& e) { return e.sys == &sys && e.name == candidate; });
  };
  auto chosen = name;
  for (int n = 2; taken(chosen); ++n)
    chosen = name + "_" + std::to_string(n);
  entries_.push_back({&sys, chosen, caf::actor_cast<caf::weak_actor_ptr>(cache), std::move(view)});
  return chosen;
}

std::shared_ptr<read_view> cache_catalog::view_of(caf::actor_system& sys,
                                                  const cache_actor& cache) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto* ctrl = caf::actor_cast<caf::strong_actor_ptr>(cache).get();
  for (auto& e : entries_)
    if (e.sys == &sys && e.handle.get() == ctrl)
      return e.view;
  return nullptr;
}

std::vector<named_cache> cache_catalog::caches(caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<named_cache> out;
  for (auto& e : entries_)
    if (e.sys == &sys)
      if (auto handle = upgrade<cache_actor>(e.handle))
        out.push_back({e.name, std::move(handle)});
  return out;
}

caf::error cache_catalog::attach_endpoint(caf::actor_system& sys, const metrics_config& cfg,
                                          const cache_actor& cache) {
  // Attachments take turns, so that two caches asking at once share one endpoint. `mtx_`
  // is never held while waiting for the endpoint: a scrape it runs lists caches under it.
  std::lock_guard<std::mutex> turn{attach_mtx_};
  std::optional<endpoint> known;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    prune();
    for (auto& e : endpoints_)
      if (e.sys == &sys)
        known = e;
  }
  if (known) {
    if (known->host != cfg.host || (cfg.port != 0 && cfg.port != known->port))
      return make_error(errc::invalid_config, "metrics of this actor system are served on " +
                                                  known->host + ":" + std::to_string(known->port) +
                                                  " already; that endpoint shows every cache");
    if (auto running = upgrade<caf::actor>(known->handle); running && join(sys, running, cache))
      return caf::none;
    // It exited as its last cache went down: start another below.
  }
  auto source = [&sys] { return cache_catalog::instance().caches(sys); };
  auto spawned = spawn_metrics_endpoint(sys, cfg, source);
  // The endpoint before closes its socket as it exits, on the multiplexer's thread.
  for (int attempt = 0; !spawned && known && attempt < 100; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    spawned = spawn_metrics_endpoint(sys, cfg, source);
  }
  if (!spawned)
    return std::move(spawned.error());
  auto& [handle, port] = *spawned;
  if (!join(sys, handle, cache)) {
    caf::anon_send_exit(handle, caf::exit_reason::user_shutdown);
    return make_error(errc::shutting_down, "the metrics endpoint exited at once");
  }
  {
    std::lock_guard<std::mutex> guard{mtx_};
    endpoints_.erase(std::remove_if(endpoints_.begin(), endpoints_.end(),
                                    [&](const endpoint& e) { return e.sys == &sys; }),
                     endpoints_.end());
    endpoints_.push_back({&sys, cfg.host, port, caf::actor_cast<caf::weak_actor_ptr>(handle)});
  }
  // Forgotten as it exits, not once nothing refers to it (its last timer may hold it a
  // moment longer): a cache spawned right after the last one stopped may then listen on
  // another address. Outside `mtx_`: if it exited already, this runs here and now.
  auto* block = caf::actor_cast<caf::actor_control_block*>(handle);
  caf::actor_cast<caf::abstract_actor*>(handle)->attach_functor([this, block] {
    std::lock_guard<std::mutex> guard{mtx_};
    endpoints_.erase(std::remove_if(endpoints_.begin(), endpoints_.end(),
                                    [&](const endpoint& e) { return e.handle.get() == block; }),
                     endpoints_.end());
  });
  return caf::none;
}

uint16_t cache_catalog::endpoint_port(caf::actor_system& sys) {
  std::lock_guard<std::mutex> guard{mtx_};
  prune();
  for (auto& e : endpoints_)
    if (e.sys == &sys)
      return e.port;
  return 0;
}

} // namespace mtcache::detail
