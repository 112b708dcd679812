#include "mtcache/actors/detail/deadline_sweep.hpp"

#include <algorithm>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/atom.hpp>
#include <caf/local_actor.hpp>
#include <caf/send.hpp>

namespace mtcache::detail {

void deadline_sweep::watch(caf::local_actor* self, std::weak_ptr<void> alive,
                           std::function<void()> expire) {
  // Rounds mostly finish in order: dropping finished ones at the front keeps the queue as
  // short as the rounds in flight.
  while (!deadlines_.empty() && deadlines_.front().alive.expired())
    deadlines_.pop_front();
  deadlines_.push_back({self->clock().now() + timeout_, std::move(alive), std::move(expire)});
  arm(self);
}

void deadline_sweep::tick(caf::local_actor* self) {
  armed_ = false;
  auto now = self->clock().now();
  while (!deadlines_.empty() && deadlines_.front().at <= now) {
    auto due = std::move(deadlines_.front());
    deadlines_.pop_front();
    if (!due.alive.expired())
      due.expire();
  }
  arm(self);
}

void deadline_sweep::arm(caf::local_actor* self) {
  if (armed_ || deadlines_.empty())
    return;
  armed_ = true;
  auto interval = std::max(timeout_ / 4, std::chrono::milliseconds{5});
  caf::delayed_anon_send(caf::actor_cast<caf::actor>(self), interval, caf::tick_atom::value);
}

} // namespace mtcache::detail
