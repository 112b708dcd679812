#include "mtcache/actors/callable_loader.hpp"

#include <deque>
#include <exception>
#include <unordered_map>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "mtcache/messages/error.hpp"

namespace mtcache {

namespace {

// Workers answer with plain messages, not responses: a request would park a strong
// reference to the dispatcher in the actor clock until its timeout, keeping an unused
// loader (and its threads) alive that long.
using worker_actor = caf::typed_actor<caf::reacts_to<load_atom, std::string, uint64_t>>;

using dispatcher_actor = loader_actor::extend<caf::reacts_to<done_atom, uint64_t, bytes>,
                                              caf::reacts_to<done_atom, uint64_t, caf::error>>;

caf::expected<bytes> call(const load_function& fn, const std::string& key) {
  try {
    return fn(key);
  } catch (const std::exception& ex) {
    return make_error(errc::loader_failed, std::string{"the load function threw: "} + ex.what());
  } catch (...) {
    return make_error(errc::loader_failed, "the load function threw");
  }
}

// Runs the function on its own thread and sends the outcome back to whoever asked.
worker_actor::behavior_type load_worker(worker_actor::pointer self, load_function fn) {
  return {
      [self, fn](load_atom, const std::string& key, uint64_t job) {
        auto res = call(fn, key);
        auto dispatcher = caf::actor_cast<dispatcher_actor>(self->current_sender());
        if (res)
          caf::anon_send(dispatcher, done_atom::value, job, std::move(*res));
        else
          caf::anon_send(dispatcher, done_atom::value, job, std::move(res.error()));
      },
  };
}

struct queued_load {
  std::string key;
  caf::typed_response_promise<bytes> rp;
};

struct running_load {
  worker_actor worker;
  caf::typed_response_promise<bytes> rp;
};

struct dispatcher_state {
  std::vector<worker_actor> idle;
  std::deque<queued_load> queue;
  std::unordered_map<uint64_t, running_load> running;
  uint64_t next_job = 0;

  static inline const char* name = "mtcache.callable_loader";
};

using dispatcher_ptr = dispatcher_actor::stateful_pointer<dispatcher_state>;

void run(dispatcher_ptr self, worker_actor worker, queued_load job) {
  auto id = ++self->state.next_job;
  self->send(worker, load_atom::value, job.key, id);
  self->state.running.emplace(id, running_load{std::move(worker), std::move(job.rp)});
}

// A load ended: answer its caller and hand the worker the next queued load, or park it.
template <class Result>
void finish(dispatcher_ptr self, uint64_t id, Result&& result) {
  auto& st = self->state;
  auto i = st.running.find(id);
  if (i == st.running.end())
    return;
  auto worker = std::move(i->second.worker);
  i->second.rp.deliver(std::forward<Result>(result));
  st.running.erase(i);
  if (st.queue.empty()) {
    st.idle.push_back(std::move(worker));
    return;
  }
  auto next = std::move(st.queue.front());
  st.queue.pop_front();
  run(self, std::move(worker), std::move(next));
}

dispatcher_actor::behavior_type dispatcher(dispatcher_ptr self, load_function fn,
                                           callable_loader_config cfg) {
  auto& st = self->state;
  std::vector<worker_actor> workers;
  for (size_t i = 0; i < std::max<size_t>(cfg.threads, 1); ++i)
    workers.push_back(self->system().spawn<caf::detached>(load_worker, fn));
  st.idle = workers;
  self->attach_functor([workers] {
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
          auto worker = std::move(st.idle.back());
          st.idle.pop_back();
          run(self, std::move(worker), std::move(job));
        }
        return rp;
      },
      [=](done_atom, uint64_t id, bytes& value) { finish(self, id, std::move(value)); },
      [=](done_atom, uint64_t id, caf::error& err) { finish(self, id, std::move(err)); },
  };
}

} // namespace

loader_actor spawn_callable_loader(caf::actor_system& sys, load_function fn,
                                   callable_loader_config cfg) {
  return sys.spawn(dispatcher, std::move(fn), cfg);
}

} // namespace mtcache
