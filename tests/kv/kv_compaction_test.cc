// Compaction: which reads it refuses, what it keeps (the latest version of each key at or
// before the compacted revision, as etcd's key_index compaction does) and what it forgets.

#include <gtest/gtest.h>

#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

class KvCompaction : public KvSemanticsTest {
 protected:
  Result<RangeResponse> read_at(const std::string& key, int64_t revision,
                                std::string range_end = {}) {
    RangeRequest request = range_request(key, std::move(range_end));
    request.revision = revision;
    return store().range(request);
  }
};
DENGINE_KV_SUITE(KvCompaction);

TEST_P(KvCompaction, ReadBelowTheCompactedRevisionFails) {
  put("k", "1");  // 2
  put("k", "2");  // 3
  put("k", "3");  // 4
  compact(3);
  const Result<RangeResponse> response = read_at("k", 2);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.status().message(), "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(response.status().detail(), ErrorDetail::kCompacted);
  EXPECT_EQ(store().compact_revision(), 3);
}

TEST_P(KvCompaction, ReadAtTheCompactedRevisionStillWorks) {
  put("k", "1");
  put("k", "2");
  put("k", "3");
  compact(3);
  const Result<RangeResponse> response = read_at("k", 3);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(values_of(response->kvs), (std::vector<std::string>{"2"}));
  EXPECT_EQ(response->kvs[0].version, 2);
}

// etcd 3.4.23: compacting at or below the last compaction, or above the current revision, fails.
TEST_P(KvCompaction, CompactingAgainOrIntoTheFutureFails) {
  for (int i = 0; i < 5; ++i) put("k", std::to_string(i));  // up to revision 6
  compact(4);
  EXPECT_EQ(status_of(CompactionRequest{4}).message(),
            "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(status_of(CompactionRequest{2}).detail(), ErrorDetail::kCompacted);
  EXPECT_EQ(status_of(CompactionRequest{100}).message(),
            "etcdserver: mvcc: required revision is a future revision");
  EXPECT_TRUE(status_of(CompactionRequest{6}).is_ok());
}

TEST_P(KvCompaction, CompactionDoesNotBumpTheRevision) {
  put("k", "1");
  put("k", "2");
  EXPECT_EQ(compact(2).revision, 3);
  EXPECT_EQ(store().current_revision(), 3);
}

TEST_P(KvCompaction, CompactionOfAnEmptyStoreAtRevisionOneWorks) {
  EXPECT_EQ(compact(1).revision, 1);
  EXPECT_EQ(store().compact_revision(), 1);
}

// etcd 3.4.23, the same data shifted by six revisions: after compacting at 3, a read at 3 sees
// each key's latest version at or before 3, and a read at 6 no longer sees the key deleted at 6.
TEST_P(KvCompaction, KeepsTheLatestVersionOfEachKeyAtOrBeforeTheRevision) {
  TxnRequest request;
  request.success = {op_put("s/a", "3"), op_put("s/b", "1"), op_put("s/c", "2")};
  txn(request);       // 2
  put("s/b", "9");    // 3
  put("s/b", "0");    // 4
  put("s/d", "0");    // 5
  del("s/b");         // 6
  put("s/b", "new");  // 7
  compact(3);
  Result<RangeResponse> at_3 = read_at("s/", 3, prefix_end("s/"));
  ASSERT_TRUE(at_3.has_value());
  EXPECT_EQ(values_of(at_3->kvs), (std::vector<std::string>{"3", "9", "2"}));
  EXPECT_EQ(at_3->kvs[1].mod_revision, 3);
  EXPECT_EQ(at_3->kvs[1].version, 2);
  EXPECT_EQ(at_3->revision, 7);
  Result<RangeResponse> at_6 = read_at("s/", 6, prefix_end("s/"));
  ASSERT_TRUE(at_6.has_value());
  EXPECT_EQ(keys_of(at_6->kvs), (std::vector<std::string>{"s/a", "s/c", "s/d"}));
  EXPECT_EQ(kv("s/b").create_revision, 7);
}

TEST_P(KvCompaction, ForgetsKeysDeletedAtOrBeforeTheRevision) {
  put("gone", "1");  // 2
  del("gone");       // 3
  put("kept", "1");  // 4
  compact(3);
  EXPECT_EQ(read_at("gone", 3)->count, 0);
  EXPECT_EQ(events_from(3).size(), 1U);  // the tombstone at 3 went with the key
  put("gone", "again");
  EXPECT_EQ(kv("gone").version, 1);
  EXPECT_EQ(kv("gone").create_revision, 5);
}

TEST_P(KvCompaction, KeepsCreateRevisionAndVersionOfLiveKeys) {
  put("k", "1");  // 2
  put("k", "2");  // 3
  put("k", "3");  // 4
  compact(4);
  put("k", "4");  // 5
  const KeyValue current = kv("k");
  EXPECT_EQ(current.create_revision, 2);
  EXPECT_EQ(current.version, 4);
}

TEST_P(KvCompaction, KeepsEverythingAfterTheRevision) {
  put("k", "1");  // 2
  put("k", "2");  // 3
  compact(2);
  put("k", "3");  // 4
  del("k");       // 5
  put("k", "4");  // 6
  for (auto [revision, value] :
       {std::pair{2, "1"}, std::pair{3, "2"}, std::pair{4, "3"}, std::pair{6, "4"}}) {
    Result<RangeResponse> response = read_at("k", revision);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(values_of(response->kvs), (std::vector<std::string>{value})) << revision;
  }
  EXPECT_EQ(read_at("k", 5)->count, 0);
}

TEST_P(KvCompaction, CompactingTheCurrentRevisionKeepsTheCurrentState) {
  put("a", "1");
  put("b", "2");
  del("a");
  put("b", "3");
  compact(store().current_revision());
  EXPECT_EQ(keys_of(range(range_request("a", kAllKeys)).kvs), (std::vector<std::string>{"b"}));
  EXPECT_EQ(kv("b").version, 2);
}

}  // namespace
}  // namespace dengine::kv::test
