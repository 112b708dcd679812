#include "mtcache/actors/callable_loader.hpp"

#include <deque>
#include <exception>
#include <functional>
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
// `Key` is a key, or the keys of a bulk load.
template <class Key>
using worker_actor = caf::typed_actor<caf::reacts_to<load_atom, Key, uint64_t>>;

template <class Key, class Value>
using function = std::function<caf::expected<Value>(const Key&)>;

// The same dispatcher serves every kind of loader: `Loader` takes `Key` and answers `Value`
// (bytes; loaded for a loader that chooses TTLs; bulk entries for keys).
template <class Loader, class Value>
using dispatcher_actor =
    typename Loader::template extend<caf::reacts_to<done_atom, uint64_t, Value>,
                                     caf::reacts_to<done_atom, uint64_t, caf::error>>;

template <class Key, class Value>
caf::expected<Value> call(const function<Key, Value>& fn, const Key& key) {
  try {
    return fn(key);
  } catch (const std::exception& ex) {
    return make_error(errc::loader_failed, std::string{"the load function threw: "} + ex.what());
  } catch (...) {
    return make_error(errc::loader_failed, "the load function threw");
  }
}

// Runs the function on its own thread and sends the outcome back to whoever asked.
template <class Key, class Value>
typename worker_actor<Key>::behavior_type load_worker(typename worker_actor<Key>::pointer self,
                                                      function<Key, Value> fn) {
  return {
      [self, fn](load_atom, const Key& key, uint64_t job) {
        auto res = call(fn, key);
        auto dispatcher = caf::actor_cast<caf::actor>(self->current_sender());
        if (res)
          caf::anon_send(dispatcher, done_atom::value, job, std::move(*res));
        else
          caf::anon_send(dispatcher, done_atom::value, job, std::move(res.error()));
      },
  };
}

template <class Key, class Value>
struct queued_load {
  Key key;
  caf::typed_response_promise<Value> rp;
};

template <class Key, class Value>
struct running_load {
  worker_actor<Key> worker;
  caf::typed_response_promise<Value> rp;
};

template <class Key, class Value>
struct dispatcher_state {
  std::vector<worker_actor<Key>> idle;
  std::deque<queued_load<Key, Value>> queue;
  std::unordered_map<uint64_t, running_load<Key, Value>> running;
  uint64_t next_job = 0;

  static inline const char* name = "mtcache.callable_loader";
};

template <class Loader, class Key, class Value>
using dispatcher_ptr =
    typename dispatcher_actor<Loader,
                              Value>::template stateful_pointer<dispatcher_state<Key, Value>>;

template <class Self, class Key, class Value>
void run(Self self, worker_actor<Key> worker, queued_load<Key, Value> job) {
  auto id = ++self->state.next_job;
  self->send(worker, load_atom::value, job.key, id);
  self->state.running.emplace(id, running_load<Key, Value>{std::move(worker), std::move(job.rp)});
}

// A load ended: answer its caller and hand the worker the next queued load, or park it.
template <class Self, class Result>
void finish(Self self, uint64_t id, Result&& result) {
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

template <class Loader, class Key, class Value>
typename dispatcher_actor<Loader, Value>::behavior_type
dispatcher(dispatcher_ptr<Loader, Key, Value> self, function<Key, Value> fn,
           callable_loader_config cfg) {
  auto& st = self->state;
  std::vector<worker_actor<Key>> workers;
  for (size_t i = 0; i < std::max<size_t>(cfg.threads, 1); ++i)
    workers.push_back(self->system().template spawn<caf::detached>(load_worker<Key, Value>, fn));
  st.idle = workers;
  self->attach_functor([workers] {
    for (auto& w : workers)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  });
  return {
      [=](load_atom, Key& key) -> caf::result<Value> {
        auto& st = self->state;
        queued_load<Key, Value> job{std::move(key), self->template make_response_promise<Value>()};
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
      [=](done_atom, uint64_t id, Value& value) { finish(self, id, std::move(value)); },
      [=](done_atom, uint64_t id, caf::error& err) { finish(self, id, std::move(err)); },
  };
}

} // namespace

loader_actor spawn_callable_loader(caf::actor_system& sys, load_function fn,
                                   callable_loader_config cfg) {
  return sys.spawn(dispatcher<loader_actor, std::string, bytes>, std::move(fn), cfg);
}

ttl_loader_actor spawn_callable_ttl_loader(caf::actor_system& sys, ttl_load_function fn,
                                           callable_loader_config cfg) {
  return sys.spawn(dispatcher<ttl_loader_actor, std::string, loaded>, std::move(fn), cfg);
}

namespace {

// Checked here, not only by the cache: a loader of our making answers one entry per key.
caf::expected<std::vector<bulk_entry>> counted(const bulk_load_function& fn,
                                               const std::vector<std::string>& keys) {
  auto res = fn(keys);
  if (res && res->size() != keys.size())
    return make_error(errc::loader_failed, "the bulk load function returned " +
                                               std::to_string(res->size()) + " entries for " +
                                               std::to_string(keys.size()) + " keys");
  return res;
}

} // namespace

bulk_loader_actor spawn_callable_bulk_loader(caf::actor_system& sys, bulk_load_function fn,
                                             callable_loader_config cfg) {
  function<std::vector<std::string>, std::vector<bulk_entry>> checked =
      [fn = std::move(fn)](const std::vector<std::string>& keys) { return counted(fn, keys); };
  return sys.spawn(dispatcher<bulk_loader_actor, std::vector<std::string>, std::vector<bulk_entry>>,
                   std::move(checked), cfg);
}

} // namespace mtcache
