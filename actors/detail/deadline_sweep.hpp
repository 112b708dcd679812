#pragma once

// Deadlines of the coordinator's requests to tiers that answer in time by themselves (the
// built-in tiers do). A CAF request timeout per request costs CAF's clock thread a wakeup to
// set the timer and another to cancel it: under load that clock thread took a quarter of the
// CPU samples of an L2 get. A finished request almost never reaches its deadline, so the
// coordinator keeps one deadline per fan-out round here instead and looks at them with one
// timer, every timeout/4: a round is failed at most a quarter of the timeout late.

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>

#include <caf/actor_clock.hpp>
#include <caf/fwd.hpp>

namespace mtcache::detail {

class deadline_sweep {
public:
  /// Every deadline is `timeout` after it is watched.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

  /// Calls `expire` `timeout` from now if `alive` has not expired by then. `self` is the
  /// owner: it receives `caf::tick_atom` when a sweep is due and then calls `tick`.
  void watch(caf::local_actor* self, std::weak_ptr<void> alive, std::function<void()> expire);

  /// Runs the expiries that are due and arms the next sweep if deadlines remain.
  void tick(caf::local_actor* self);

  /// Deadlines not swept yet, including those whose round has finished.
  size_t size() const { return deadlines_.size(); }

private:
  struct deadline {
    caf::actor_clock::time_point at;
    std::weak_ptr<void> alive;
    std::function<void()> expire;
  };

  void arm(caf::local_actor* self);

  std::chrono::milliseconds timeout_{1000};
  // In deadline order: every deadline is the same timeout after it was watched.
  std::deque<deadline> deadlines_;
  bool armed_ = false;
};

} // namespace mtcache::detail
