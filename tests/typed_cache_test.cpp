// Typed values from inside an event-based actor (runtime/typed_cache.hpp), on an embedded
// cache (memory tier only). The blocking calls are covered in flight_test.cpp.
#include "mtcache/runtime/typed_cache.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include "mtcache/actors/callable_loader.hpp"
#include "mtcache/messages/error.hpp"
#include "mtcache/runtime/blocking_client.hpp"
#include "mtcache/runtime/spawn_cache.hpp"
#include "support/actor_system_fixture.hpp"

using namespace mtcache;
using namespace std::chrono_literals;

namespace {

struct profile {
  std::string name;
  std::map<std::string, std::vector<int>> scores;

  template <class Archive>
  void serialize(Archive& ar) {
    ar(name, scores);
  }

  friend bool operator==(const profile& x, const profile& y) {
    return x.name == y.name && x.scores == y.scores;
  }
};

using read_result = caf::expected<std::optional<profile>>;

class TypedCache : public mtcache::testing::actor_system_fixture {
protected:
  void SetUp() override {
    auto spawned = spawn_cache(sys, cache_config::embedded());
    ASSERT_TRUE(spawned) << sys.render(spawned.error());
    cache = *spawned;
    client = std::make_unique<blocking_cache>(sys, cache, 10s);
  }

  void TearDown() override {
    client.reset();
    if (cache)
      stop_cache(cache);
  }

  // Runs `body(self, finish)` in a fresh event-based actor and waits until it calls finish.
  void in_actor(std::function<void(caf::event_based_actor*, std::function<void()>)> body) {
    caf::scoped_actor waiter{sys};
    auto w = caf::actor_cast<caf::actor>(waiter);
    sys.spawn([=](caf::event_based_actor* self) {
      body(self, [=] {
        self->send(w, ok_atom::value);
        self->quit();
      });
    });
    waiter->receive([](ok_atom) {}, caf::after(10s) >> [] { ADD_FAILURE() << "no answer"; });
  }

  // Reads `key` as a profile from inside an actor; counts how often `done` ran.
  read_result read(const std::string& key) {
    auto out = std::make_shared<std::vector<read_result>>();
    in_actor([&, out](caf::event_based_actor* self, std::function<void()> finish) {
      typed::get<profile>(self, cache, key, 5s, [=](read_result res) {
        out->push_back(std::move(res));
        finish();
      });
    });
    EXPECT_EQ(out->size(), 1u);
    return out->empty() ? read_result{caf::error{}} : std::move(out->front());
  }

  caf::expected<write_ack> write(const std::string& key, const profile& value) {
    auto out = std::make_shared<std::vector<caf::expected<write_ack>>>();
    in_actor([&, out](caf::event_based_actor* self, std::function<void()> finish) {
      typed::set(self, cache, key, value, strategy::long_term(), 5s,
                 [=](caf::expected<write_ack> ack) {
                   out->push_back(std::move(ack));
                   finish();
                 });
    });
    EXPECT_EQ(out->size(), 1u);
    return out->empty() ? caf::expected<write_ack>{caf::error{}} : std::move(out->front());
  }

  caf::expected<profile> compute(const std::string& key, const loader_actor& loader) {
    auto out = std::make_shared<std::vector<caf::expected<profile>>>();
    in_actor([&, out](caf::event_based_actor* self, std::function<void()> finish) {
      typed::get_or_compute<profile>(self, cache, key, {}, loader, 5s,
                                     [=](caf::expected<profile> res) {
                                       out->push_back(std::move(res));
                                       finish();
                                     });
    });
    EXPECT_EQ(out->size(), 1u);
    return out->empty() ? caf::expected<profile>{caf::error{}} : std::move(out->front());
  }

  // A loader that counts its calls and answers `value(key)`.
  loader_actor counting_loader(std::function<bytes(const std::string&)> value) {
    return spawn_callable_loader(
        sys, [calls = loader_calls, value](const std::string& key) -> caf::expected<bytes> {
          ++*calls;
          return value(key);
        });
  }

  cache_actor cache;
  std::unique_ptr<blocking_cache> client;
  std::shared_ptr<std::atomic<int>> loader_calls = std::make_shared<std::atomic<int>>(0);
};

} // namespace

TEST_F(TypedCache, SetAndGetFromAnActorRoundTrip) {
  profile ada{"Ada", {{"math", {1, 2, 3}}, {"poetry", {}}}};
  auto ack = write("profile:ada", ada);
  ASSERT_TRUE(ack) << sys.render(ack.error());
  EXPECT_EQ(ack->written, 1u);
  auto res = read("profile:ada");
  ASSERT_TRUE(res) << sys.render(res.error());
  ASSERT_TRUE(res->has_value());
  EXPECT_EQ(**res, ada);
  // What the actor wrote is what the blocking reader decodes too.
  auto blocking = typed::get<profile>(*client, "profile:ada");
  ASSERT_TRUE(blocking && blocking->has_value());
  EXPECT_EQ(**blocking, ada);
}

TEST_F(TypedCache, MissFromAnActorIsNothing) {
  auto res = read("profile:nobody");
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_FALSE(res->has_value());
  EXPECT_EQ(client->stats()->decode_failed, 0u);
}

TEST_F(TypedCache, CorruptBytesReadFromAnActorAreReportedAndAMiss) {
  ASSERT_TRUE(client->set("profile:eve", bytes{"definitely not cereal"}));
  auto res = read("profile:eve");
  ASSERT_TRUE(res) << sys.render(res.error());
  EXPECT_FALSE(res->has_value());
  // Reported before the miss was: counted, and dropped from the tiers.
  EXPECT_EQ(client->stats()->decode_failed, 1u);
  auto raw = client->get("profile:eve");
  ASSERT_TRUE(raw);
  EXPECT_FALSE(raw->found);
}

TEST_F(TypedCache, ErrorsReachTheActor) {
  auto res = read("");
  ASSERT_FALSE(res);
  EXPECT_TRUE(is(res.error(), errc::invalid_key));
  auto ack = write("", profile{});
  ASSERT_FALSE(ack);
  EXPECT_TRUE(is(ack.error(), errc::invalid_key));
}

TEST_F(TypedCache, ComputeFromAnActorLoadsOnce) {
  auto loader = counting_loader([](const std::string& key) {
    return typed_value::encode(profile{key, {{"x", {42}}}});
  });
  for (int i = 0; i < 3; ++i) {
    auto p = compute("profile:bob", loader);
    ASSERT_TRUE(p) << sys.render(p.error());
    EXPECT_EQ(p->name, "profile:bob");
  }
  EXPECT_EQ(loader_calls->load(), 1);
}

TEST_F(TypedCache, CorruptBytesUnderAComputeFromAnActorAreDroppedAndLoadedAgain) {
  ASSERT_TRUE(client->set("profile:eve", bytes{"still garbage"}));
  auto loader = counting_loader([](const std::string& key) {
    return typed_value::encode(profile{key, {}});
  });
  auto p = compute("profile:eve", loader);
  ASSERT_TRUE(p) << sys.render(p.error());
  EXPECT_EQ(p->name, "profile:eve");
  EXPECT_EQ(loader_calls->load(), 1);
  EXPECT_EQ(client->stats()->decode_failed, 1u);
}

TEST_F(TypedCache, LoadedBytesThatDoNotDecodeFailAfterOneRetry) {
  auto loader = counting_loader([](const std::string&) { return bytes{"not a profile"}; });
  auto p = compute("profile:odd", loader);
  ASSERT_FALSE(p);
  EXPECT_TRUE(is(p.error(), errc::decode_failed));
  EXPECT_EQ(loader_calls->load(), 2);
  EXPECT_EQ(client->stats()->decode_failed, 2u);
}

// Typed reads of many keys, blocking (get_many, get_or_compute_many).
TEST_F(TypedCache, ManyKeysComeBackTypedInOrderAndCorruptOnesAreLoadedAgain) {
  ASSERT_TRUE(typed::set(*client, "profile:ann", profile{"Ann", {}}));
  ASSERT_TRUE(client->set("profile:bob", bytes{"garbage"}));
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto loader = spawn_typed_bulk_loader<profile>(
      sys,
      [calls](const std::vector<std::string>& keys)
          -> caf::expected<std::unordered_map<std::string, profile>> {
        ++*calls;
        std::unordered_map<std::string, profile> found;
        for (auto& key : keys)
          if (key != "profile:nobody")
            found[key] = profile{"loaded " + key, {}};
        return found;
      });
  auto read = typed::get_many<profile>(*client, {"profile:ann", "profile:none", ""});
  ASSERT_TRUE(read) << sys.render(read.error());
  ASSERT_EQ(read->size(), 3u);
  ASSERT_TRUE((*read)[0] && *(*read)[0]);
  EXPECT_EQ((*read)[0]->value().name, "Ann");
  ASSERT_TRUE((*read)[1]);
  EXPECT_FALSE(*(*read)[1]);
  ASSERT_FALSE((*read)[2]);
  EXPECT_TRUE(is((*read)[2].error(), errc::invalid_key));

  auto many = typed::get_or_compute_many<profile>(
      *client, {"profile:ann", "profile:bob", "profile:nobody", "profile:cy"}, {}, loader);
  ASSERT_TRUE(many) << sys.render(many.error());
  ASSERT_EQ(many->size(), 4u);
  for (size_t i : {0, 1, 3})
    ASSERT_TRUE((*many)[i] && *(*many)[i]) << i;
  EXPECT_EQ((*many)[0]->value().name, "Ann");
  // Bob's garbage was dropped and Bob loaded in a second call, alone.
  EXPECT_EQ((*many)[1]->value().name, "loaded profile:bob");
  ASSERT_TRUE((*many)[2]);
  EXPECT_FALSE(*(*many)[2]);
  EXPECT_EQ((*many)[3]->value().name, "loaded profile:cy");
  EXPECT_EQ(calls->load(), 2);
  EXPECT_EQ(client->stats()->decode_failed, 1u);
}
