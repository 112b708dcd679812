#include "mtcache/runtime/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include "mtcache/actors/detail/metrics_scrape.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/detail/cache_catalog.hpp"

namespace mtcache {

caf::expected<std::string> render_metrics(caf::actor_system& sys,
                                          std::chrono::milliseconds timeout) {
  auto& catalog = detail::cache_catalog::instance();
  auto scraper = detail::spawn_scrape(sys, catalog.caches(sys), timeout);
  caf::scoped_actor self{sys};
  caf::expected<std::string> res{std::string{}};
  // Each request of the scrape is bounded by `timeout`; they run side by side.
  self->request(scraper, timeout + std::chrono::milliseconds(500), get_atom::value)
      .receive([&](std::string& text) { res = std::move(text); },
               [&](caf::error& err) {
                 res = err == caf::sec::request_timeout
                           ? make_error(errc::timeout, "caches did not report their metrics")
                           : std::move(err);
               });
  return res;
}

uint16_t metrics_port(caf::actor_system& sys) {
  return detail::cache_catalog::instance().endpoint_port(sys);
}

} // namespace mtcache
