#include "mtcache/store/tag_clock.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

using mtcache::detail::tag_clock;

namespace {

using tags = std::vector<std::string_view>;

TEST(TagClock, ARemovalHidesWhatWasWrittenUpToIt) {
  tag_clock clock;
  EXPECT_FALSE(clock.hides(100, {"t"}));
  clock.removed("t", 200);
  EXPECT_TRUE(clock.hides(100, tags{"t"}));
  EXPECT_TRUE(clock.hides(200, tags{"t"})) << "written in the same microsecond";
  EXPECT_FALSE(clock.hides(201, tags{"t"})) << "written after";
  EXPECT_FALSE(clock.hides(100, tags{"other"}));
  EXPECT_TRUE(clock.hides(100, tags{"other", "t"})) << "any one tag hides";
}

TEST(TagClock, TheLaterRemovalWins) {
  tag_clock clock;
  clock.removed("t", 300);
  clock.removed("t", 200);
  EXPECT_TRUE(clock.hides(250, tags{"t"}));
}

TEST(TagClock, KnowsWhichTagsItHasNoTimeFor) {
  tag_clock clock;
  clock.removed("gone", 10);
  clock.never_removed("kept");
  EXPECT_EQ(clock.unknown(tags{"gone", "kept", "new"}), std::vector<std::string>{"new"});
  EXPECT_FALSE(clock.hides(1, tags{"kept"}));
}

TEST(TagClock, NeverRemovedDoesNotUndoARemoval) {
  tag_clock clock;
  clock.removed("t", 50);
  clock.never_removed("t");
  EXPECT_TRUE(clock.hides(10, tags{"t"}));
  clock.never_removed("u");
  clock.removed("u", 50);
  EXPECT_TRUE(clock.hides(10, tags{"u"}));
}

TEST(TagClock, ForgettingKeepsRemovalsAndAsksAgainForTheRest) {
  tag_clock clock;
  clock.removed("gone", 10);
  clock.never_removed("kept");
  clock.forget_unremoved();
  EXPECT_EQ(clock.unknown(tags{"gone", "kept"}), std::vector<std::string>{"kept"});
  EXPECT_TRUE(clock.hides(5, tags{"gone"}));
  EXPECT_EQ(clock.size(), 1u);
}

TEST(TagClock, DropsRemovalTimesPastTheRetentionOnceItHasGrown) {
  tag_clock clock;
  for (int i = 0; i < 100; ++i)
    clock.removed("old" + std::to_string(i), 10);
  clock.removed("new", 1000);
  clock.never_removed("kept");
  clock.drop_removed_before(500);
  EXPECT_EQ(clock.size(), 2u) << "the new removal and the tag known never removed stay";
  EXPECT_TRUE(clock.hides(900, tags{"new"}));
  EXPECT_FALSE(clock.hides(5, tags{"old1"}));
  clock.removed("later", 20);
  clock.drop_removed_before(500);
  EXPECT_EQ(clock.size(), 3u) << "not before the clock doubled since the last drop";
}

} // namespace
