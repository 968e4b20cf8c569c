// Store revisions and per-key create/mod/version across writes (etcd 3.4, checked against a
// real etcd 3.4.23 where noted).

#include <gtest/gtest.h>

#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

class KvRevisions : public KvSemanticsTest {};
DENGINE_KV_SUITE(KvRevisions);

TEST_P(KvRevisions, EmptyStoreIsAtRevisionOne) {
  EXPECT_EQ(store().current_revision(), 1);
  EXPECT_EQ(get("a").revision, 1);
  EXPECT_EQ(get("a").count, 0);
}

TEST_P(KvRevisions, FirstPutMakesRevisionTwo) {
  EXPECT_EQ(put("a", "1"), 2);
  EXPECT_EQ(store().current_revision(), 2);
  EXPECT_EQ(put("b", "1"), 3);
}

TEST_P(KvRevisions, TxnWithThreePutsBumpsRevisionOnce) {
  TxnRequest request;
  request.success = {op_put("x", "1"), op_put("y", "2"), op_put("z", "3")};
  const ApplyResult result = apply(request);
  ASSERT_TRUE(result.status.is_ok());
  EXPECT_EQ(result.revision, 2);
  EXPECT_EQ(std::get<TxnResponse>(result.response).revision, 2);
  for (const char* key : {"x", "y", "z"}) EXPECT_EQ(kv(key).mod_revision, 2) << key;
  // One revision, the changes in write order (etcd's sub-revisions).
  ASSERT_EQ(result.events.size(), 3U);
  EXPECT_EQ(keys_of({result.events[0].kv, result.events[1].kv, result.events[2].kv}),
            (std::vector<std::string>{"x", "y", "z"}));
}

TEST_P(KvRevisions, DeleteOfMissingKeyDoesNotBumpRevision) {
  put("a", "1");
  const DeleteRangeResponse response = del("missing");
  EXPECT_EQ(response.deleted, 0);
  EXPECT_EQ(response.revision, 2);
  EXPECT_EQ(store().current_revision(), 2);
}

TEST_P(KvRevisions, DeleteOfExistingKeyBumpsRevision) {
  put("a", "1");
  const DeleteRangeResponse response = del("a");
  EXPECT_EQ(response.deleted, 1);
  EXPECT_EQ(response.revision, 3);
  EXPECT_EQ(get("a").count, 0);
}

TEST_P(KvRevisions, LeaseGrantDoesNotBumpRevision) {
  put("a", "1");
  EXPECT_EQ(grant(7, 60).revision, 2);
  EXPECT_EQ(store().current_revision(), 2);
}

TEST_P(KvRevisions, ReadOnlyTxnThroughTheLogDoesNotBumpRevision) {
  put("a", "1");
  TxnRequest request;
  request.success = {op_range("a")};
  EXPECT_EQ(txn(request).revision, 2);
  EXPECT_EQ(store().current_revision(), 2);
}

TEST_P(KvRevisions, FailedCommandChangesNothing) {
  put("a", "1");
  const ApplyResult result = apply(put_request("a", "2", /*lease=*/99));
  EXPECT_EQ(result.status.message(), "etcdserver: requested lease not found");
  EXPECT_EQ(result.status.detail(), ErrorDetail::kLeaseNotFound);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(result.response));
  EXPECT_TRUE(result.events.empty());
  EXPECT_EQ(result.revision, 2);
  EXPECT_EQ(kv("a").value, "1");
}

TEST_P(KvRevisions, CreateModVersionAcrossPutDeleteAndReput) {
  put("k", "v1");  // rev 2
  put("k", "v2");  // rev 3
  KeyValue current = kv("k");
  EXPECT_EQ(current.create_revision, 2);
  EXPECT_EQ(current.mod_revision, 3);
  EXPECT_EQ(current.version, 2);
  del("k");        // rev 4
  put("k", "v3");  // rev 5: a new generation starts at version 1
  current = kv("k");
  EXPECT_EQ(current.create_revision, 5);
  EXPECT_EQ(current.mod_revision, 5);
  EXPECT_EQ(current.version, 1);
  EXPECT_EQ(current.value, "v3");
}

TEST_P(KvRevisions, PutReturnsPrevKvOnlyWhenAskedAndPresent) {
  PutRequest first = put_request("k", "v1");
  first.prev_kv = true;
  EXPECT_FALSE(put(first).prev_kv.has_value());
  PutRequest second = put_request("k", "v2");
  second.prev_kv = true;
  const PutResponse response = put(second);
  ASSERT_TRUE(response.prev_kv.has_value());
  EXPECT_EQ(response.prev_kv->value, "v1");
  EXPECT_EQ(response.prev_kv->mod_revision, 2);
  EXPECT_FALSE(put(put_request("k", "v3")).prev_kv.has_value());
}

TEST_P(KvRevisions, IgnoreValueKeepsTheValueAndBumpsVersion) {
  put("k", "v1");
  PutRequest request = put_request("k", "");
  request.ignore_value = true;
  EXPECT_EQ(put(request).revision, 3);
  const KeyValue current = kv("k");
  EXPECT_EQ(current.value, "v1");
  EXPECT_EQ(current.version, 2);
}

TEST_P(KvRevisions, IgnoreValueOnMissingKeyFailsWithKeyNotFound) {
  PutRequest request = put_request("missing", "");
  request.ignore_value = true;
  EXPECT_EQ(status_of(request).message(), "etcdserver: key not found");
  EXPECT_EQ(store().current_revision(), 1);
}

TEST_P(KvRevisions, IgnoreValueWithAValueIsRefused) {
  put("k", "v1");
  PutRequest request = put_request("k", "x");
  request.ignore_value = true;
  EXPECT_EQ(status_of(request).message(), "etcdserver: value is provided");
}

TEST_P(KvRevisions, IgnoreLeaseWithALeaseIsRefused) {
  put("k", "v1");
  grant(5, 60);
  PutRequest request = put_request("k", "x", 5);
  request.ignore_lease = true;
  EXPECT_EQ(status_of(request).message(), "etcdserver: lease is provided");
}

TEST_P(KvRevisions, EmptyKeyIsRefused) {
  EXPECT_EQ(status_of(put_request("", "v")).message(), "etcdserver: key is not provided");
  DeleteRangeRequest del_request;
  EXPECT_EQ(status_of(del_request).message(), "etcdserver: key is not provided");
  EXPECT_EQ(store().range(range_request("")).status().message(), "etcdserver: key is not provided");
}

TEST_P(KvRevisions, DeleteRangeReturnsPrevKvsInKeyOrder) {
  put("a/1", "x");
  put("a/2", "y");
  put("b", "z");
  const DeleteRangeResponse response = del("a/", prefix_end("a/"), /*prev_kv=*/true);
  EXPECT_EQ(response.deleted, 2);
  EXPECT_EQ(response.revision, 5);
  EXPECT_EQ(keys_of(response.prev_kvs), (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_EQ(values_of(response.prev_kvs), (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(get("b").count, 1);
}

TEST_P(KvRevisions, DeleteFromKeyWithNulRangeEndDeletesEveryLaterKey) {
  put("a", "1");
  put("b", "2");
  put("c", "3");
  EXPECT_EQ(del("b", kAllKeys).deleted, 2);
  EXPECT_EQ(keys_of(range(range_request(kAllKeys, kAllKeys)).kvs), (std::vector<std::string>{"a"}));
}

}  // namespace
}  // namespace dengine::kv::test
