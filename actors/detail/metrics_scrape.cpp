#include "mtcache/actors/detail/metrics_scrape.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace mtcache::detail {

namespace {

scrape_actor::behavior_type scrape_once(scrape_actor::pointer self, std::vector<named_cache> caches,
                                        caf::timespan timeout) {
  return {
      [=](get_atom) -> caf::result<std::string> {
        auto rp = self->make_response_promise<std::string>();
        scrape(self, caches, timeout, [=](std::vector<cache_snapshot> snapshots) mutable {
          rp.deliver(render_prometheus(snapshots));
          self->quit();
        });
        return rp;
      },
  };
}

} // namespace

scrape_actor spawn_scrape(caf::actor_system& sys, std::vector<named_cache> caches,
                          caf::timespan timeout) {
  return sys.spawn(scrape_once, std::move(caches), timeout);
}

} // namespace mtcache::detail
