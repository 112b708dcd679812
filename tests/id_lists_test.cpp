#include "mtcache/store/id_lists.hpp"

#include <vector>

#include <gtest/gtest.h>

using mtcache::detail::id_lists;

namespace {

std::vector<uint32_t> ids(const id_lists& lists, uint32_t list) {
  std::vector<uint32_t> out;
  for (auto id = lists.front(list); id != id_lists::nil; id = lists.next(id))
    out.push_back(id);
  return out;
}

} // namespace

TEST(IdLists, KeepsInsertionOrder) {
  id_lists lists{2};
  lists.push_back(0, 5);
  lists.push_back(0, 1);
  lists.push_front(0, 9);
  lists.push_back(1, 3);
  EXPECT_EQ(ids(lists, 0), (std::vector<uint32_t>{9, 5, 1}));
  EXPECT_EQ(ids(lists, 1), (std::vector<uint32_t>{3}));
  EXPECT_EQ(lists.back(0), 1u);
  EXPECT_EQ(lists.prev(5), 9u);
  EXPECT_EQ(lists.prev(9), id_lists::nil);
}

TEST(IdLists, UnlinkWithoutKnowingTheList) {
  id_lists lists{2};
  lists.push_back(1, 7);
  lists.push_back(1, 8);
  lists.unlink(7);
  lists.unlink(7);
  lists.unlink(42);
  EXPECT_FALSE(lists.linked(7));
  EXPECT_TRUE(lists.linked(8));
  EXPECT_EQ(ids(lists, 1), (std::vector<uint32_t>{8}));
  lists.unlink(8);
  EXPECT_TRUE(lists.empty(1));
  EXPECT_EQ(lists.front(1), id_lists::nil);
}

TEST(IdLists, MoveToBackAcrossLists) {
  id_lists lists{2};
  for (uint32_t id = 0; id < 3; ++id)
    lists.push_back(0, id);
  lists.move_to_back(0, 0);
  lists.move_to_back(1, 1);
  EXPECT_EQ(ids(lists, 0), (std::vector<uint32_t>{2, 0}));
  EXPECT_EQ(ids(lists, 1), (std::vector<uint32_t>{1}));
}

TEST(IdLists, SpliceBackMovesWholeList) {
  id_lists lists{2};
  lists.push_back(0, 1);
  lists.push_back(1, 2);
  lists.push_back(1, 3);
  lists.splice_back(0, 1);
  EXPECT_TRUE(lists.empty(1));
  EXPECT_EQ(ids(lists, 0), (std::vector<uint32_t>{1, 2, 3}));
  lists.splice_back(0, 1);
  EXPECT_EQ(ids(lists, 0), (std::vector<uint32_t>{1, 2, 3}));
}

TEST(IdLists, ClearEmptiesEveryList) {
  id_lists lists{2};
  lists.push_back(0, 1);
  lists.push_back(1, 100);
  lists.clear();
  EXPECT_TRUE(lists.empty(0));
  EXPECT_TRUE(lists.empty(1));
  EXPECT_FALSE(lists.linked(100));
  lists.push_back(1, 100);
  EXPECT_EQ(ids(lists, 1), (std::vector<uint32_t>{100}));
}
