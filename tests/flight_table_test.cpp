#include "mtcache/actors/detail/flight_table.hpp"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "mtcache/runtime/message_types.hpp"

using namespace mtcache;
using namespace mtcache::detail;

namespace {

// Stands in for a flight: the table only keeps handles, so any actor of the type will do.
flight_actor::behavior_type idle_flight(flight_actor::pointer) {
  return {
      [](join_atom) { return lookup{}; },
      [](join_atom, const compute_options&, const loader_ref&) { return lookup{}; },
      [](caf::timeout_atom, uint64_t) {},
      [](lease_atom, uint64_t) {},
      [](fill_atom, uint32_t, const lookup&) { return lookup{}; },
      [](miss_atom) { return lookup{}; },
      [](load_atom, const bulk_entry&) { return lookup{}; },
  };
}

class FlightTable : public ::testing::Test {
protected:
  static caf::actor_system_config& init(caf::actor_system_config& cfg) {
    add_message_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    return cfg;
  }

  void TearDown() override {
    for (auto& f : spawned)
      caf::anon_send_exit(f, caf::exit_reason::user_shutdown);
    sched.run();
  }

  // Spawns through the table, recording the ids it hands out; `refresh` as an eager refresh.
  flight_actor spawn(const std::string& key, bool refresh = false) {
    return table.spawn_if_absent(
        key,
        [&](uint64_t id) {
          ids.push_back(id);
          spawned.push_back(sys.spawn(idle_flight));
          return spawned.back();
        },
        refresh);
  }

  // The id the table gave the n-th flight it spawned.
  uint64_t id_of(size_t spawn_index) { return ids.at(spawn_index); }

  caf::actor_system_config cfg;
  caf::actor_system sys{init(cfg)};
  caf::scheduler::test_coordinator& sched =
      dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  flight_table table;
  std::vector<uint64_t> ids;
  std::vector<flight_actor> spawned;
};

} // namespace

TEST_F(FlightTable, SpawnsOneFlightPerKey) {
  auto a = spawn("a");
  EXPECT_EQ(spawn("a"), a);
  auto b = spawn("b");
  EXPECT_NE(a, b);
  EXPECT_EQ(spawned.size(), 2u);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_NE(id_of(0), id_of(1));
  ASSERT_NE(table.live("a"), nullptr);
  EXPECT_EQ(*table.live("a"), a);
  EXPECT_EQ(table.live("c"), nullptr);
}

TEST_F(FlightTable, SupersededFlightTakesNoJoinsNorFillsButStaysUntilForgotten) {
  auto a = spawn("a");
  EXPECT_TRUE(table.current("a", id_of(0)));
  table.supersede("a");
  EXPECT_EQ(table.live("a"), nullptr);
  EXPECT_FALSE(table.current("a", id_of(0)));
  // No second flight for a key whose flight still runs.
  EXPECT_EQ(spawn("a"), a);
  EXPECT_EQ(spawned.size(), 1u);
  EXPECT_TRUE(table.forget("a", id_of(0)));
  EXPECT_EQ(table.size(), 0u);
  spawn("a");
  EXPECT_EQ(spawned.size(), 2u);
  EXPECT_TRUE(table.current("a", id_of(1)));
}

TEST_F(FlightTable, FillOfAnEarlierFlightOfTheKeyIsNotCurrent) {
  spawn("a");
  EXPECT_FALSE(table.current("a", id_of(0) + 1));
  EXPECT_FALSE(table.current("b", id_of(0)));
}

TEST_F(FlightTable, ForgetLeavesALaterFlightOfTheKey) {
  spawn("a");
  table.forget("a", id_of(0));
  spawn("a");
  EXPECT_FALSE(table.forget("a", id_of(0)));
  EXPECT_NE(table.live("a"), nullptr);
  EXPECT_TRUE(table.forget("a", id_of(1)));
  EXPECT_EQ(table.live("a"), nullptr);
}

TEST_F(FlightTable, SupersedeByPatternTouchesMatchingKeysOnly) {
  spawn("user:1");
  spawn("user:2");
  spawn("order:1");
  table.supersede(*glob::compile("user:*"));
  EXPECT_EQ(table.live("user:1"), nullptr);
  EXPECT_EQ(table.live("user:2"), nullptr);
  EXPECT_NE(table.live("order:1"), nullptr);
  table.supersede_all();
  EXPECT_EQ(table.live("order:1"), nullptr);
  EXPECT_EQ(table.size(), 3u);
}

TEST_F(FlightTable, ForEachVisitsEveryRunningFlight) {
  spawn("a");
  spawn("b");
  table.supersede("b");
  std::set<flight_actor> seen;
  table.for_each([&](const flight_actor& f) { seen.insert(f); });
  EXPECT_EQ(seen, (std::set<flight_actor>(spawned.begin(), spawned.end())));
}

TEST_F(FlightTable, EagerRefreshTakesNoJoinsButMissesStillFindIt) {
  auto a = spawn("a", true);
  // Requests read the tiers, which still hold the value the refresh replaces.
  EXPECT_EQ(table.join("a"), nullptr);
  EXPECT_EQ(table.joins(), 0u);
  EXPECT_TRUE(table.running("a"));
  EXPECT_TRUE(table.current("a", id_of(0)));
  // A request that missed the tiers waits for the refresh instead of loading again.
  EXPECT_EQ(spawn("a"), a);
  EXPECT_EQ(spawned.size(), 1u);
  EXPECT_EQ(table.joins(), 1u);
  spawn("b");
  EXPECT_NE(table.join("b"), nullptr);
  EXPECT_FALSE(table.running("c"));
}
