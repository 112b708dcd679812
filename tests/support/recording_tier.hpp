#pragma once

// A batch-taking tier for coordinator tests on the deterministic scheduler: it records the
// batches it gets and answers them as `tier_log::answer` says (single-threaded: no races).
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "mtcache/messages/error.hpp"
#include "mtcache/messages/interfaces.hpp"

namespace mtcache::testing {

// What the recording tier saw, and how it answers batches.
struct tier_log {
  enum class mode { store, refuse_bad_keys, fail_batches, answer_short, hold };
  mode answer = mode::store;
  // Batch answers the test sends later (mode::hold): held(false) answers, held(true) fails.
  std::deque<std::function<void(bool fail)>> held;
  std::vector<size_t> batches;
  std::vector<size_t> read_batches;
  std::map<std::string, std::string> data;
};

// The answer to a batch or a single read, now or (mode::hold) when the test releases it.
template <class T>
caf::result<T> hold_or_answer(batch_tier_actor::pointer self, std::shared_ptr<tier_log> log,
                              T answer) {
  if (log->answer != tier_log::mode::hold)
    return answer;
  auto rp = self->make_response_promise<T>();
  log->held.emplace_back([rp, answer](bool fail) mutable {
    if (fail)
      rp.deliver(make_error(errc::backend_unavailable, "down"));
    else
      rp.deliver(std::move(answer));
  });
  return rp;
}

// A tier that takes batches and records them.
inline batch_tier_actor::behavior_type recording_tier(batch_tier_actor::pointer self,
                                                      std::shared_ptr<tier_log> log) {
  auto store = [log](const std::string& key, const bytes& value) { log->data[key] = value.str(); };
  return {
      [=](get_atom, const std::string& key) -> caf::result<lookup> {
        auto i = log->data.find(key);
        return hold_or_answer(self, log,
                              i == log->data.end() ? lookup{}
                                                   : lookup{true, bytes{i->second}, -1, 2, false});
      },
      [=](get_atom, std::string& key, miss_route& route,
          caf::message& context) -> caf::result<lookup> {
        auto i = log->data.find(key);
        if (i == log->data.end())
          return self->delegate(route, miss_atom::value, std::move(key), false, std::move(context));
        return lookup{true, bytes{i->second}, -1, 2, false};
      },
      [=](get_atom, const std::vector<std::string>& keys) -> caf::result<read_batch> {
        log->read_batches.push_back(keys.size());
        if (log->answer == tier_log::mode::fail_batches)
          return make_error(errc::backend_unavailable, "down");
        read_batch out;
        for (size_t k = 0; k < keys.size(); ++k) {
          auto i = log->data.find(keys[k]);
          if (log->answer == tier_log::mode::refuse_bad_keys && keys[k].rfind("bad:", 0) == 0) {
            out.failed.push_back(static_cast<uint32_t>(k));
            out.results.emplace_back();
          } else {
            out.results.push_back(
                i == log->data.end() ? lookup{} : lookup{true, bytes{i->second}, -1, 1, false});
          }
        }
        if (log->answer == tier_log::mode::answer_short)
          out.results.pop_back();
        return hold_or_answer(self, log, std::move(out));
      },
      [=](get_atom, stale_atom, const std::string&) { return lookup{}; },
      [=](put_atom, const std::string& key, bytes& value, caf::timespan) {
        store(key, value);
        return ok_atom::value;
      },
      [=](put_atom, std::vector<tier_write>& writes) -> caf::result<std::vector<caf::error>> {
        log->batches.push_back(writes.size());
        if (log->answer == tier_log::mode::fail_batches)
          return make_error(errc::backend_unavailable, "down");
        std::vector<caf::error> out(writes.size());
        for (size_t k = 0; k < writes.size(); ++k) {
          if (log->answer == tier_log::mode::refuse_bad_keys && writes[k].key.rfind("bad:", 0) == 0)
            out[k] = make_error(errc::backend_error, "refused");
          else
            store(writes[k].key, writes[k].value);
        }
        if (log->answer == tier_log::mode::answer_short)
          out.pop_back();
        return hold_or_answer(self, log, std::move(out));
      },
      [=](delete_atom, const std::string& key) -> uint64_t { return log->data.erase(key); },
      [=](delete_atom, std::vector<std::string>& keys) {
        uint64_t n = 0;
        for (auto& key : keys)
          n += log->data.erase(key);
        return n;
      },
      // Also the test's hook for held batches: a promise must be answered from inside its
      // actor, so the test sends "held:answer" or "held:fail" to answer the oldest one.
      [=](delete_atom, match_atom, const std::string& pattern) {
        if (pattern.rfind("held:", 0) == 0 && !log->held.empty()) {
          auto answer = std::move(log->held.front());
          log->held.pop_front();
          answer(pattern == "held:fail");
        }
        return uint64_t{0};
      },
      [=](clear_atom) {
        auto n = static_cast<uint64_t>(log->data.size());
        log->data.clear();
        return n;
      },
      [=](exists_atom, const std::string& key) { return log->data.count(key) > 0; },
      [=](stats_atom) { return tier_stats{}; },
      [=](health_atom) {
        return tier_health{2, "recording", true, "", 0};
      },
  };
}

} // namespace mtcache::testing
