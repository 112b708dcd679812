#include "actors/callable_loader.hpp"

#include <deque>
#include <exception>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "messages/error.hpp"

namespace mtcache {

namespace {

// Runs the function on its own thread; exceptions stop here.
loader_actor::behavior_type load_worker(loader_actor::pointer, load_function fn) {
  return {
      [fn](load_atom, const std::string& key) -> caf::result<bytes> {
        try {
          auto res = fn(key);
          if (!res)
            return std::move(res.error());
          return std::move(*res);
        } catch (const std::exception& ex) {
          return make_error(errc::loader_failed,
                            std::string{"the load function threw: "} + ex.what());
        } catch (...) {
          return make_error(errc::loader_failed, "the load function threw");
        }
      },
  };
}

struct queued_load {
  std::string key;
  caf::typed_response_promise<bytes> rp;
};

struct dispatcher_state {
  callable_loader_config cfg;
  std::vector<loader_actor> workers;
  std::vector<loader_actor> idle;
  std::deque<queued_load> queue;

  static inline const char* name = "mtcache.callable_loader";
};

using dispatcher_ptr = loader_actor::stateful_pointer<dispatcher_state>;

void run(dispatcher_ptr self, loader_actor worker, queued_load job);

// The worker is free again: give it the next queued load, or park it.
void release(dispatcher_ptr self, loader_actor worker) {
  auto& st = self->state;
  if (st.queue.empty()) {
    st.idle.push_back(std::move(worker));
    return;
  }
  auto next = std::move(st.queue.front());
  st.queue.pop_front();
  run(self, std::move(worker), std::move(next));
}

void run(dispatcher_ptr self, loader_actor worker, queued_load job) {
  self->request(worker, self->state.cfg.call_timeout, load_atom::value, job.key)
      .then(
          [=](bytes& value) mutable {
            job.rp.deliver(std::move(value));
            release(self, worker);
          },
          [=](caf::error& err) mutable {
            // A timed-out worker is still inside the function: it is not released.
            if (err == caf::sec::request_timeout) {
              job.rp.deliver(make_error(errc::timeout, "the load function did not return in time"));
              return;
            }
            job.rp.deliver(std::move(err));
            release(self, worker);
          });
}

loader_actor::behavior_type dispatcher(dispatcher_ptr self, load_function fn,
                                       callable_loader_config cfg) {
  auto& st = self->state;
  st.cfg = cfg;
  for (size_t i = 0; i < std::max<size_t>(cfg.threads, 1); ++i)
    st.workers.push_back(self->system().spawn<caf::detached>(load_worker, fn));
  st.idle = st.workers;
  self->attach_functor([workers = st.workers] {
    for (auto& w : workers)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  });
  return {
      [=](load_atom, std::string& key) -> caf::result<bytes> {
        auto& st = self->state;
        queued_load job{std::move(key), self->make_response_promise<bytes>()};
        auto rp = job.rp;
        if (st.idle.empty()) {
          st.queue.emplace_back(std::move(job));
        } else {
          auto worker = st.idle.back();
          st.idle.pop_back();
          run(self, std::move(worker), std::move(job));
        }
        return rp;
      },
  };
}

} // namespace

loader_actor spawn_callable_loader(caf::actor_system& sys, load_function fn,
                                   callable_loader_config cfg) {
  return sys.spawn(dispatcher, std::move(fn), cfg);
}

} // namespace mtcache
