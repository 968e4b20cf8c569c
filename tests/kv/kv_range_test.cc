// Range semantics: key spans, limit/more/count, sorting, keys_only/count_only, revision
// filters, reads at past revisions. The expected orders and flags were recorded from a real
// etcd 3.4.23 on the same data (its revisions shifted by six: the probe store had six earlier
// writes).

#include <tuple>

#include <gtest/gtest.h>

#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

class KvRange : public KvSemanticsTest {
 protected:
  // s/a=3 (create 2, mod 2, v1), s/b=0 (create 2, mod 4, v3), s/c=2 (2, 2, v1), s/d=0 (5, 5, v1)
  void write_probe_data() {
    TxnRequest request;
    request.success = {op_put("s/a", "3"), op_put("s/b", "1"), op_put("s/c", "2")};
    txn(request);     // rev 2
    put("s/b", "9");  // rev 3
    put("s/b", "0");  // rev 4
    put("s/d", "0");  // rev 5
    put("t", "outside the prefix");
  }
  RangeRequest probe_range() { return range_request("s/", prefix_end("s/")); }
};
DENGINE_KV_SUITE(KvRange);

TEST_P(KvRange, SingleKeyWhenRangeEndIsEmpty) {
  put("a", "1");
  put("ab", "2");
  EXPECT_EQ(keys_of(get("a").kvs), (std::vector<std::string>{"a"}));
}

TEST_P(KvRange, HalfOpenIntervalExcludesRangeEnd) {
  for (const char* key : {"a", "b", "c", "d"}) put(key, "v");
  EXPECT_EQ(keys_of(range(range_request("b", "d")).kvs), (std::vector<std::string>{"b", "c"}));
}

TEST_P(KvRange, PrefixRangeUsesTheCallersPrefixEnd) {
  for (const char* key : {"a", "a/", "a/x", "a/y", "a0", "b"}) put(key, "v");
  EXPECT_EQ(keys_of(range(range_request("a/", prefix_end("a/"))).kvs),
            (std::vector<std::string>{"a/", "a/x", "a/y"}));
}

TEST_P(KvRange, NulRangeEndMeansEveryKeyFromKey) {
  for (const char* key : {"a", "b", "c"}) put(key, "v");
  EXPECT_EQ(keys_of(range(range_request("b", kAllKeys)).kvs), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(range(range_request(kAllKeys, kAllKeys)).count, 3);
}

TEST_P(KvRange, RangeEndBeforeKeyIsEmpty) {
  for (const char* key : {"a", "b", "c"}) put(key, "v");
  EXPECT_EQ(range(range_request("c", "a")).count, 0);
}

TEST_P(KvRange, LimitCutsKeysSetsMoreAndCountsEveryKey) {
  write_probe_data();
  RangeRequest request = probe_range();
  request.limit = 2;
  RangeResponse response = range(request);
  EXPECT_EQ(keys_of(response.kvs), (std::vector<std::string>{"s/a", "s/b"}));
  EXPECT_TRUE(response.more);
  EXPECT_EQ(response.count, 4);
  request.limit = 4;
  response = range(request);
  EXPECT_EQ(response.kvs.size(), 4U);
  EXPECT_FALSE(response.more);
}

TEST_P(KvRange, CountOnlyReturnsTheCountAndNoKeys) {
  write_probe_data();
  RangeRequest request = probe_range();
  request.count_only = true;
  request.limit = 1;
  const RangeResponse response = range(request);
  EXPECT_TRUE(response.kvs.empty());
  EXPECT_EQ(response.count, 4);
  EXPECT_FALSE(response.more);
}

TEST_P(KvRange, KeysOnlyOmitsValuesButKeepsRevisions) {
  write_probe_data();
  RangeRequest request = probe_range();
  request.keys_only = true;
  request.limit = 1;
  const RangeResponse response = range(request);
  ASSERT_EQ(response.kvs.size(), 1U);
  EXPECT_EQ(response.kvs[0].key, "s/a");
  EXPECT_EQ(response.kvs[0].value, "");
  EXPECT_EQ(response.kvs[0].mod_revision, 2);
  EXPECT_TRUE(response.more);
}

// {target, order, expected keys}: etcd sorts ascending when the order is NONE and the target
// is not the key; ties keep key order, descending too.
using SortCase = std::tuple<SortTarget, SortOrder, std::vector<std::string>>;

TEST_P(KvRange, SortsByEveryTargetInEveryOrderAsEtcdDoes) {
  write_probe_data();
  const std::vector<SortCase> cases = {
      {SortTarget::kKey, SortOrder::kNone, {"s/a", "s/b", "s/c", "s/d"}},
      {SortTarget::kKey, SortOrder::kAscend, {"s/a", "s/b", "s/c", "s/d"}},
      {SortTarget::kKey, SortOrder::kDescend, {"s/d", "s/c", "s/b", "s/a"}},
      {SortTarget::kVersion, SortOrder::kNone, {"s/a", "s/c", "s/d", "s/b"}},
      {SortTarget::kVersion, SortOrder::kAscend, {"s/a", "s/c", "s/d", "s/b"}},
      {SortTarget::kVersion, SortOrder::kDescend, {"s/b", "s/a", "s/c", "s/d"}},
      {SortTarget::kCreate, SortOrder::kNone, {"s/a", "s/b", "s/c", "s/d"}},
      {SortTarget::kCreate, SortOrder::kAscend, {"s/a", "s/b", "s/c", "s/d"}},
      {SortTarget::kCreate, SortOrder::kDescend, {"s/d", "s/a", "s/b", "s/c"}},
      {SortTarget::kMod, SortOrder::kNone, {"s/a", "s/c", "s/b", "s/d"}},
      {SortTarget::kMod, SortOrder::kAscend, {"s/a", "s/c", "s/b", "s/d"}},
      {SortTarget::kMod, SortOrder::kDescend, {"s/d", "s/b", "s/a", "s/c"}},
      {SortTarget::kValue, SortOrder::kNone, {"s/b", "s/d", "s/c", "s/a"}},
      {SortTarget::kValue, SortOrder::kAscend, {"s/b", "s/d", "s/c", "s/a"}},
      {SortTarget::kValue, SortOrder::kDescend, {"s/a", "s/c", "s/b", "s/d"}},
  };
  for (const auto& [target, order, expected] : cases) {
    RangeRequest request = probe_range();
    request.sort_target = target;
    request.sort_order = order;
    EXPECT_EQ(keys_of(range(request).kvs), expected)
        << "target " << static_cast<int>(target) << " order " << static_cast<int>(order);
  }
}

TEST_P(KvRange, SortThenLimit) {
  write_probe_data();
  RangeRequest request = probe_range();
  request.sort_target = SortTarget::kValue;
  request.sort_order = SortOrder::kAscend;
  request.limit = 2;
  const RangeResponse response = range(request);
  EXPECT_EQ(keys_of(response.kvs), (std::vector<std::string>{"s/b", "s/d"}));
  EXPECT_TRUE(response.more);
  EXPECT_EQ(response.count, 4);
}

TEST_P(KvRange, MinModRevisionFilterKeepsCountUnfiltered) {
  write_probe_data();
  RangeRequest request = probe_range();
  request.min_mod_revision = 4;
  const RangeResponse response = range(request);
  EXPECT_EQ(keys_of(response.kvs), (std::vector<std::string>{"s/b", "s/d"}));
  EXPECT_EQ(response.count, 4);
}

TEST_P(KvRange, MaxModRevisionFilterWithLimitSetsMore) {
  write_probe_data();
  RangeRequest request = probe_range();
  request.max_mod_revision = 3;
  request.limit = 1;
  const RangeResponse response = range(request);
  EXPECT_EQ(keys_of(response.kvs), (std::vector<std::string>{"s/a"}));
  EXPECT_TRUE(response.more);
  EXPECT_EQ(response.count, 4);
}

TEST_P(KvRange, CreateRevisionFiltersAreInclusive) {
  write_probe_data();
  RangeRequest request = probe_range();
  request.min_create_revision = 3;
  request.max_create_revision = 5;
  EXPECT_EQ(keys_of(range(request).kvs), (std::vector<std::string>{"s/d"}));
  request.min_create_revision = 2;
  request.max_create_revision = 2;
  EXPECT_EQ(keys_of(range(request).kvs), (std::vector<std::string>{"s/a", "s/b", "s/c"}));
}

TEST_P(KvRange, ReadAtPastRevisionSeesThatStateAndTheCurrentHeader) {
  write_probe_data();
  RangeRequest request = probe_range();
  request.revision = 2;
  const RangeResponse response = range(request);
  EXPECT_EQ(values_of(response.kvs), (std::vector<std::string>{"3", "1", "2"}));
  EXPECT_EQ(response.count, 3);
  EXPECT_EQ(response.revision, 6);  // the header carries the store's revision
  EXPECT_EQ(response.kvs[1].version, 1);
}

TEST_P(KvRange, ReadAtPastRevisionSeesVersionThen) {
  put("k", "1");
  put("k", "2");
  put("k", "3");
  RangeRequest request = range_request("k");
  request.revision = 3;
  const RangeResponse response = range(request);
  ASSERT_EQ(response.kvs.size(), 1U);
  EXPECT_EQ(response.kvs[0].value, "2");
  EXPECT_EQ(response.kvs[0].version, 2);
  EXPECT_EQ(response.kvs[0].mod_revision, 3);
}

TEST_P(KvRange, ReadAtPastRevisionDoesNotSeeADeletedKeyAfterItsTombstone) {
  put("k", "1");  // 2
  del("k");       // 3
  put("k", "2");  // 4
  for (auto [revision, expected_count] : {std::pair{2, 1}, std::pair{3, 0}, std::pair{4, 1}}) {
    RangeRequest request = range_request("k");
    request.revision = revision;
    EXPECT_EQ(range(request).count, expected_count) << "at revision " << revision;
  }
}

TEST_P(KvRange, FutureRevisionFails) {
  put("k", "1");
  RangeRequest request = range_request("k");
  request.revision = 3;
  const Result<RangeResponse> response = store().range(request);
  ASSERT_FALSE(response.has_value());
  EXPECT_EQ(response.status().message(),
            "etcdserver: mvcc: required revision is a future revision");
  EXPECT_EQ(response.status().detail(), ErrorDetail::kFutureRevision);
}

TEST_P(KvRange, NegativeRevisionMeansCurrent) {
  put("k", "1");
  put("k", "2");
  RangeRequest request = range_request("k");
  request.revision = -3;
  EXPECT_EQ(values_of(range(request).kvs), (std::vector<std::string>{"2"}));
}

TEST_P(KvRange, NegativeLimitMeansNoLimit) {
  for (const char* key : {"a", "b", "c"}) put(key, "v");
  RangeRequest request = range_request("a", kAllKeys);
  request.limit = -1;
  const RangeResponse response = range(request);
  EXPECT_EQ(response.kvs.size(), 3U);
  EXPECT_FALSE(response.more);
}

TEST_P(KvRange, BinaryKeysAndValuesRoundTrip) {
  const std::string key("k\0\xff", 3);
  const std::string value("\0\x01\x02", 3);
  put(key, value);
  EXPECT_EQ(kv(key).value, value);
}

}  // namespace
}  // namespace dengine::kv::test
