#pragma once

// Versioned writes on a tier for as long as slots move: `lanes` lanes, each the only writer of
// its keys (key k belongs to lane k % lanes), set versions 1, 2, 3... of each key in turn (the
// value is the version) and after every fourth acknowledged write read another of their keys,
// which must return exactly its last acknowledged version (nothing of it is in flight). A
// failed write is retried with the same version, so at the end every key must hold its last
// acknowledged version on the cluster. At most 16 lanes per actor (see request_driver.hpp).

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "mtcache/messages/interfaces.hpp"
#include "support/redis_cluster.hpp"

namespace mtcache::bench {

class reshard_load {
public:
  reshard_load(caf::actor_system& sys, batch_tier_actor tier, size_t keys, size_t lanes)
      : sys_(sys), tier_(std::move(tier)), lanes_(lanes), acked_(keys, 0) {
    for (size_t k = 0; k < keys; ++k)
      keys_.push_back("versioned:" + std::to_string(k));
  }

  void start() {
    for (size_t first = 0; first < lanes_; first += 16)
      spawn_actor(first, std::min(lanes_, first + 16));
  }

  /// Stops every lane after its request in flight and waits for them.
  void stop() {
    stop_ = true;
    while (running_actors_ > 0)
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }

  uint64_t writes() const { return writes_; }
  uint64_t failed_writes() const { return failed_writes_; }
  uint64_t reads() const { return reads_; }
  uint64_t wrong_reads() const { return wrong_reads_; }

  std::string first_problem() {
    std::lock_guard<std::mutex> guard{problem_mutex_};
    return first_problem_;
  }

  /// Keys whose value on the cluster is not their last acknowledged version (after stop).
  uint64_t lost_writes(const testing::redis_cluster& cluster) {
    auto values = cluster.values_of(keys_);
    uint64_t lost = 0;
    for (size_t k = 0; k < keys_.size(); ++k)
      if (acked_[k] > 0 && values[k] != std::to_string(acked_[k])) {
        if (lost++ == 0)
          note_problem(keys_[k] + " holds " + values[k] + ", acknowledged " +
                       std::to_string(acked_[k]));
      }
    return lost;
  }

private:
  // The keys of lane `lane`: lane, lane + lanes, lane + 2 * lanes, ...
  size_t key_of(size_t lane, uint64_t step) const {
    auto per_lane = (acked_.size() - lane + lanes_ - 1) / lanes_;
    return lane + lanes_ * (step % per_lane);
  }

  void spawn_actor(size_t first_lane, size_t end_lane) {
    ++running_actors_;
    sys_.spawn([this, first_lane, end_lane](caf::event_based_actor* self) {
      auto steps = std::make_shared<std::vector<uint64_t>>(end_lane - first_lane, 0);
      auto active = std::make_shared<size_t>(end_lane - first_lane);
      auto write = std::make_shared<std::function<void(size_t)>>();
      auto next = [this, self, active, write](size_t lane) {
        if (!stop_) {
          (*write)(lane);
        } else if (--*active == 0) {
          --running_actors_;
          self->quit();
        }
      };
      *write = [this, self, steps, first_lane, next](size_t lane) {
        auto& step = (*steps)[lane - first_lane];
        auto key = key_of(lane, step);
        auto version = acked_[key] + 1;
        self->request(tier_, caf::duration{caf::infinite}, put_atom::value, keys_[key],
                      bytes{std::to_string(version)}, caf::timespan{0})
            .then(
                [this, self, lane, key, version, &step, next](ok_atom) {
                  acked_[key] = version;
                  ++writes_;
                  if (++step % 4 != 0)
                    return next(lane);
                  auto other = key_of(lane, step + 1);
                  auto expected =
                      acked_[other] == 0 ? std::string{} : std::to_string(acked_[other]);
                  self->request(tier_, caf::duration{caf::infinite}, get_atom::value, keys_[other])
                      .then(
                          [this, lane, other, expected, next](lookup& res) {
                            ++reads_;
                            if (res.value.str() != expected) {
                              ++wrong_reads_;
                              note_problem("get " + keys_[other] + " returned '" + res.value.str() +
                                           "', acknowledged '" + expected + "'");
                            }
                            next(lane);
                          },
                          [this, self, lane, other, next](caf::error& err) {
                            ++reads_;
                            ++wrong_reads_;
                            note_problem("get " + keys_[other] +
                                         " failed: " + self->system().render(err));
                            next(lane);
                          });
                },
                [this, self, lane, key, next](caf::error& err) {
                  ++failed_writes_;
                  note_problem("set " + keys_[key] + " failed: " + self->system().render(err));
                  next(lane); // the same version again
                });
      };
      for (auto lane = first_lane; lane < end_lane; ++lane)
        (*write)(lane);
      self->attach_functor([write] { *write = nullptr; });
    });
  }

  void note_problem(const std::string& what) {
    std::lock_guard<std::mutex> guard{problem_mutex_};
    if (first_problem_.empty())
      first_problem_ = what;
  }

  caf::actor_system& sys_;
  batch_tier_actor tier_;
  size_t lanes_;
  std::vector<std::string> keys_;
  // Each entry written by the actor of its lane only; read by others after `stop`.
  std::vector<uint64_t> acked_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> running_actors_{0};
  std::atomic<uint64_t> writes_{0};
  std::atomic<uint64_t> failed_writes_{0};
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> wrong_reads_{0};
  std::mutex problem_mutex_;
  std::string first_problem_;
};

} // namespace mtcache::bench
