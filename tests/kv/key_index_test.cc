// KeyIndex: the per-key generations behind create_revision, version, reads at past revisions
// and compaction (the rules of etcd's server/mvcc/key_index.go).

#include "kv/key_index.h"

#include <vector>

#include <gtest/gtest.h>

namespace dengine::kv {
namespace {

// put@2 put@4 delete@6 | put@8 put@10 delete@12 | put@14
KeyIndex three_generations() {
  KeyIndex index;
  index.put({2, 0});
  index.put({4, 0});
  EXPECT_TRUE(index.tombstone({6, 0}));
  index.put({8, 0});
  index.put({10, 0});
  EXPECT_TRUE(index.tombstone({12, 0}));
  index.put({14, 0});
  return index;
}

TEST(KeyIndex, GetFindsTheLatestPutAtOrBeforeTheRevision) {
  const KeyIndex index = three_generations();
  EXPECT_FALSE(index.get(1).has_value());
  EXPECT_EQ(index.get(2)->modified, (Revision{2, 0}));
  EXPECT_EQ(index.get(3)->modified, (Revision{2, 0}));
  EXPECT_EQ(index.get(5)->modified, (Revision{4, 0}));
  EXPECT_EQ(index.get(5)->version, 2);
  EXPECT_EQ(index.get(5)->created, (Revision{2, 0}));
  EXPECT_EQ(index.get(100)->modified, (Revision{14, 0}));
  EXPECT_EQ(index.get(100)->version, 1);
}

TEST(KeyIndex, NothingIsVisibleBetweenATombstoneAndTheNextPut) {
  const KeyIndex index = three_generations();
  EXPECT_FALSE(index.get(6).has_value());
  EXPECT_FALSE(index.get(7).has_value());
  EXPECT_EQ(index.get(8)->created, (Revision{8, 0}));
  EXPECT_EQ(index.get(8)->version, 1);
  EXPECT_FALSE(index.get(13).has_value());
}

TEST(KeyIndex, TombstoneOfADeletedKeyChangesNothing) {
  KeyIndex index;
  index.put({2, 0});
  EXPECT_TRUE(index.tombstone({3, 0}));
  EXPECT_FALSE(index.tombstone({4, 0}));
  EXPECT_EQ(index.modified(), (Revision{3, 0}));
}

TEST(KeyIndex, CompactKeepsTheLatestRevisionAtOrBeforeAndEverythingAfter) {
  KeyIndex index = three_generations();
  std::vector<Revision> kept;
  index.compact(9, kept);
  EXPECT_EQ(kept, (std::vector<Revision>{{8, 0}}));
  ASSERT_EQ(index.generations().size(), 2U);
  EXPECT_EQ(index.generations()[0].revisions, (std::vector<Revision>{{8, 0}, {10, 0}, {12, 0}}));
  EXPECT_EQ(index.get(9)->modified, (Revision{8, 0}));
  EXPECT_EQ(index.get(11)->version, 2);  // the version count survives the trim
}

TEST(KeyIndex, CompactAtATombstoneDropsThatGeneration) {
  KeyIndex index = three_generations();
  std::vector<Revision> kept;
  index.compact(12, kept);
  EXPECT_TRUE(kept.empty());
  ASSERT_EQ(index.generations().size(), 1U);
  EXPECT_EQ(index.generations()[0].revisions, (std::vector<Revision>{{14, 0}}));
}

TEST(KeyIndex, CompactPastTheFinalTombstoneEmptiesTheIndex) {
  KeyIndex index;
  index.put({2, 0});
  ASSERT_TRUE(index.tombstone({3, 0}));
  std::vector<Revision> kept;
  index.compact(3, kept);
  EXPECT_TRUE(index.empty());
  EXPECT_TRUE(kept.empty());
}

TEST(KeyIndex, CompactBeforeTheFirstPutKeepsEverything) {
  KeyIndex index = three_generations();
  const KeyIndex before = index;
  std::vector<Revision> kept;
  index.compact(1, kept);
  EXPECT_EQ(index, before);
  EXPECT_TRUE(kept.empty());
}

TEST(KeyIndex, SubRevisionsOrderWritesWithinOneRevision) {
  KeyIndex index;
  index.put({5, 1});
  EXPECT_TRUE(index.tombstone({6, 0}));
  index.put({6, 2});
  EXPECT_EQ(index.get(6)->modified, (Revision{6, 2}));
  EXPECT_EQ(index.get(6)->version, 1);
}

}  // namespace
}  // namespace dengine::kv
