#pragma once

// Closed-loop load on an actor from inside the actor system, shared by the benchmarks that
// compare a cache request with a limit measured in the same run.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include "latency_recorder.hpp"
#include "mtcache/messages/atoms.hpp"

// Drivers hand their latency samples back in a message, within this process only.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<mtcache::bench::latency_recorder>)

namespace mtcache::bench {

// `outstanding` requests in flight, split over drivers of at most 16 each (CAF 0.17 keeps an
// actor's pending responses in a flat map searched linearly: one driver with hundreds
// outstanding would measure itself). Latencies go to `latency` if given. `request(self, d)`
// sends one request from driver `d` (0 .. outstanding/16 - 1) and returns its response
// handle, so drivers may address different keys (a cluster spreads them over its primaries).
template <class Reply, class Request>
void drive_with(caf::actor_system& sys, size_t total, size_t outstanding, latency_recorder* latency,
                Request request) {
  auto drivers = std::max<size_t>(1, outstanding / 16);
  auto window = std::min<size_t>(outstanding, 16);
  caf::scoped_actor starter{sys};
  auto starter_addr = caf::actor_cast<caf::actor>(starter);
  // One driver's counters. Its response handlers capture a plain pointer to it (the actor
  // keeps it until it quits, and no handler runs after that), so a request costs CAF's
  // handler allocation and no reference counting of ours, and the clock is read only when
  // latencies are recorded. What a driver spends comes off the throughput it measures: the
  // drivers run beside the cache's coordinator, which CAF's work stealing (polling off, see
  // scheduler_tuning.cpp) keeps on one worker with them (the cache side of memcached_bench
  // measured the same with one scheduler thread as with two).
  struct lane {
    caf::event_based_actor* self;
    caf::actor starter;
    latency_recorder* latency;
    std::shared_ptr<latency_recorder> local;
    size_t share;
    size_t driver;
    size_t sent = 0;
    size_t done = 0;
    Request* request;

    void finish() {
      self->send(starter, done_atom::value, local);
      self->quit();
    }

    void send_one() {
      ++sent;
      auto begin =
          latency ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      (*request)(self, driver)
          .then(
              [this, begin](Reply&) {
                if (latency)
                  local->record(std::chrono::steady_clock::now() - begin);
                if (++done == share)
                  finish();
                else if (sent < share)
                  send_one();
              },
              [this](caf::error& err) {
                std::fprintf(stderr, "request failed: %s\n", self->system().render(err).c_str());
                finish();
              });
    }
  };
  auto shared_request = std::make_shared<Request>(std::move(request));
  for (size_t d = 0; d < drivers; ++d) {
    auto share = total / drivers;
    sys.spawn([=](caf::event_based_actor* self) {
      auto st = std::make_shared<lane>(lane{self, starter_addr, latency,
                                            std::make_shared<latency_recorder>(), share, d, 0, 0,
                                            shared_request.get()});
      for (size_t i = 0; i < window; ++i)
        st->send_one();
      // The lane (and the request it points to) lives as long as the actor.
      self->attach_functor([st, shared_request] {});
    });
  }
  size_t finished = 0;
  starter->receive_for(finished, drivers)([&](done_atom, std::shared_ptr<latency_recorder>& local) {
    if (latency)
      latency->merge(*local);
  });
}

// drive_with, every driver sending the same request `xs...` to `target`. Each request has
// `timeout`: a finite one costs CAF's clock thread a timer set and cancelled per request.
template <class Reply, class Handle, class... Ts>
void drive(caf::actor_system& sys, Handle target, size_t total, size_t outstanding,
           latency_recorder* latency, caf::duration timeout, Ts... xs) {
  drive_with<Reply>(sys, total, outstanding, latency, [=](caf::event_based_actor* self, size_t) {
    return self->request(target, timeout, xs...);
  });
}

} // namespace mtcache::bench
