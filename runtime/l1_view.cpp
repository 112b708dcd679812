#include "mtcache/runtime/l1_view.hpp"

#include <caf/actor_system.hpp>

#include "mtcache/actors/detail/tag_filter.hpp"
#include "mtcache/runtime/detail/cache_catalog.hpp"
#include "mtcache/store/read_view.hpp"

namespace mtcache {

l1_view::l1_view(std::shared_ptr<detail::read_view> impl) noexcept : impl_(std::move(impl)) {
  // nop
}

std::optional<lookup> l1_view::get(std::string_view key) const {
  std::optional<lookup> out;
  if (impl_)
    impl_->read(key, now_ms(), [&](std::string_view value, const bytes& block, int64_t ttl_ms) {
      // Small values are copied (no reference count shared with other readers of the key),
      // large ones shared.
      out.emplace(lookup{true,
                         value.size() <= detail::read_view::inline_limit ? bytes{value} : block,
                         ttl_ms, impl_->level(), false});
    });
  // A value with tags hands out its payload; one a tag removal hid is left to the tier, which
  // drops it and reads on below.
  if (out && detail::admit(*out, impl_->tags()) == detail::tag_verdict::hidden)
    return std::nullopt;
  return out;
}

int64_t l1_view::now_ms() noexcept {
  // The clock of the memory tier: CAF's actor clock is the steady clock.
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

l1_view find_l1_view(caf::actor_system& sys, const cache_actor& cache) {
  return l1_view{detail::cache_catalog::instance().view_of(sys, cache)};
}

} // namespace mtcache
