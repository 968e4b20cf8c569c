// Txn semantics: compares, branches, revisions of responses inside a txn, nesting, etcd's
// request checks (op budget, duplicate keys). Behaviours marked "etcd 3.4.23" were observed on
// a real etcd through its JSON gateway.

#include <tuple>

#include <gtest/gtest.h>

#include "kv/command_codec.h"
#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

class KvTxn : public KvSemanticsTest {
 protected:
  bool succeeds(std::vector<Compare> compares) {
    TxnRequest request;
    request.compare = std::move(compares);
    return txn(request).succeeded;
  }
};
DENGINE_KV_SUITE(KvTxn);

using CompareCase = std::tuple<CompareTarget, CompareResult, int64_t, bool>;

TEST_P(KvTxn, ComparesEachTargetWithEachResult) {
  grant(9, 60);
  put("k", "v", 9);  // rev 2: create 2, mod 2, version 1, lease 9
  put("k", "w", 9);  // rev 3: mod 3, version 2
  const std::vector<CompareCase> cases = {
      {CompareTarget::kVersion, CompareResult::kEqual, 2, true},
      {CompareTarget::kVersion, CompareResult::kEqual, 1, false},
      {CompareTarget::kVersion, CompareResult::kGreater, 1, true},
      {CompareTarget::kVersion, CompareResult::kLess, 3, true},
      {CompareTarget::kVersion, CompareResult::kNotEqual, 2, false},
      {CompareTarget::kCreate, CompareResult::kEqual, 2, true},
      {CompareTarget::kCreate, CompareResult::kLess, 2, false},
      {CompareTarget::kCreate, CompareResult::kGreater, 1, true},
      {CompareTarget::kCreate, CompareResult::kNotEqual, 3, true},
      {CompareTarget::kMod, CompareResult::kEqual, 3, true},
      {CompareTarget::kMod, CompareResult::kGreater, 3, false},
      {CompareTarget::kMod, CompareResult::kLess, 4, true},
      {CompareTarget::kMod, CompareResult::kNotEqual, 3, false},
      {CompareTarget::kLease, CompareResult::kEqual, 9, true},
      {CompareTarget::kLease, CompareResult::kNotEqual, 9, false},
      {CompareTarget::kLease, CompareResult::kGreater, 8, true},
      {CompareTarget::kLease, CompareResult::kLess, 9, false},
  };
  for (const auto& [target, result, operand, expected] : cases) {
    EXPECT_EQ(succeeds({compare("k", target, result, operand)}), expected)
        << "target " << static_cast<int>(target) << " result " << static_cast<int>(result)
        << " operand " << operand;
  }
  EXPECT_TRUE(succeeds({compare_value("k", CompareResult::kEqual, "w")}));
  EXPECT_TRUE(succeeds({compare_value("k", CompareResult::kGreater, "v")}));
  EXPECT_TRUE(succeeds({compare_value("k", CompareResult::kLess, "x")}));
  EXPECT_FALSE(succeeds({compare_value("k", CompareResult::kNotEqual, "w")}));
}

// etcd 3.4.23: a missing key compares as zeros, but never on its value.
TEST_P(KvTxn, MissingKeyComparesAsZerosExceptForValue) {
  EXPECT_TRUE(succeeds({compare("missing", CompareTarget::kVersion, CompareResult::kEqual, 0)}));
  EXPECT_TRUE(succeeds({compare("missing", CompareTarget::kCreate, CompareResult::kEqual, 0)}));
  EXPECT_TRUE(succeeds({compare("missing", CompareTarget::kMod, CompareResult::kEqual, 0)}));
  EXPECT_TRUE(succeeds({compare("missing", CompareTarget::kLease, CompareResult::kEqual, 0)}));
  EXPECT_FALSE(succeeds({compare_value("missing", CompareResult::kEqual, "")}));
  EXPECT_FALSE(succeeds({compare_value("missing", CompareResult::kNotEqual, "x")}));
}

// etcd 3.4.23: a comparison over a range holds only if every key satisfies it.
TEST_P(KvTxn, CompareOverARangeNeedsEveryKey) {
  put("r/a", "1");  // create 2
  put("r/b", "2");  // create 3
  Compare over_range = compare("r/", CompareTarget::kCreate, CompareResult::kGreater, 1);
  over_range.range_end = prefix_end("r/");
  EXPECT_TRUE(succeeds({over_range}));
  over_range.create_revision = 2;
  EXPECT_FALSE(succeeds({over_range}));
  Compare empty_range = compare("q/", CompareTarget::kVersion, CompareResult::kEqual, 0);
  empty_range.range_end = prefix_end("q/");
  EXPECT_TRUE(succeeds({empty_range}));
}

TEST_P(KvTxn, OperandOfAnotherTargetComparesAsZero) {
  put("k", "v");
  Compare mismatched = compare("k", CompareTarget::kMod, CompareResult::kEqual, 0);
  mismatched.version = 2;  // not the target's operand: ignored, as etcd ignores the oneof
  EXPECT_FALSE(succeeds({mismatched}));
  mismatched.result = CompareResult::kGreater;
  EXPECT_TRUE(succeeds({mismatched}));
}

TEST_P(KvTxn, AllComparesMustHoldForSuccess) {
  put("a", "1");
  TxnRequest request;
  request.compare = {compare_value("a", CompareResult::kEqual, "1"),
                     compare("a", CompareTarget::kVersion, CompareResult::kEqual, 7)};
  request.success = {op_put("then", "x")};
  request.failure = {op_put("else", "y")};
  const TxnResponse response = txn(request);
  EXPECT_FALSE(response.succeeded);
  EXPECT_EQ(get("then").count, 0);
  EXPECT_EQ(kv("else").value, "y");
  ASSERT_EQ(response.responses.size(), 1U);
  EXPECT_TRUE(std::holds_alternative<PutResponse>(response.responses[0].response));
}

// etcd 3.4.23: responses inside a txn carry the revision each op saw.
TEST_P(KvTxn, OpResponsesCarryTheRevisionTheyRanAt) {
  put("x", "0");  // rev 2
  TxnRequest request;
  request.success = {op_delete("nothing"), op_range("x"), op_put("w", "1"), op_delete("nothing2"),
                     op_range("w")};
  const TxnResponse response = txn(request);
  EXPECT_EQ(response.revision, 3);
  ASSERT_EQ(response.responses.size(), 5U);
  EXPECT_EQ(std::get<DeleteRangeResponse>(response.responses[0].response).revision, 2);
  EXPECT_EQ(std::get<RangeResponse>(response.responses[1].response).revision, 2);
  EXPECT_EQ(std::get<PutResponse>(response.responses[2].response).revision, 3);
  EXPECT_EQ(std::get<DeleteRangeResponse>(response.responses[3].response).revision, 3);
  const auto& range_after_put = std::get<RangeResponse>(response.responses[4].response);
  EXPECT_EQ(range_after_put.revision, 3);
  EXPECT_EQ(values_of(range_after_put.kvs), (std::vector<std::string>{"1"}));
}

TEST_P(KvTxn, DeleteOfNothingInATxnDoesNotBumpRevision) {
  put("x", "0");
  TxnRequest request;
  request.success = {op_delete("nothing"), op_range("x")};
  EXPECT_EQ(txn(request).revision, 2);
  EXPECT_EQ(store().current_revision(), 2);
}

TEST_P(KvTxn, EmptyTxnSucceedsAtTheCurrentRevision) {
  put("x", "0");
  const TxnResponse response = txn(TxnRequest{});
  EXPECT_TRUE(response.succeeded);
  EXPECT_EQ(response.revision, 2);
}

// etcd 3.4.23: a nested txn's response has an empty header (revision 0).
TEST_P(KvTxn, NestedTxnFollowsItsOwnComparesAndHasNoHeader) {
  put("flag", "on");
  TxnRequest inner;
  inner.compare = {compare_value("flag", CompareResult::kEqual, "off")};
  inner.success = {op_put("inner-then", "1")};
  inner.failure = {op_put("inner-else", "1")};
  TxnRequest outer;
  outer.success = {op_txn(inner), op_put("outer", "1")};
  const TxnResponse response = txn(outer);
  EXPECT_TRUE(response.succeeded);
  EXPECT_EQ(response.revision, 3);
  ASSERT_EQ(response.responses.size(), 2U);
  const auto& nested = std::get<TxnResponse>(response.responses[0].response);
  EXPECT_FALSE(nested.succeeded);
  EXPECT_EQ(nested.revision, 0);
  ASSERT_EQ(nested.responses.size(), 1U);
  EXPECT_EQ(std::get<PutResponse>(nested.responses[0].response).revision, 3);
  EXPECT_EQ(get("inner-then").count, 0);
  EXPECT_EQ(kv("inner-else").mod_revision, 3);
  EXPECT_EQ(kv("outer").mod_revision, 3);
}

// etcd decides every branch before running any op: a nested compare sees the state before the
// txn, not the outer txn's earlier writes.
TEST_P(KvTxn, NestedComparesSeeTheStateBeforeTheTxn) {
  TxnRequest inner;
  inner.compare = {compare("created", CompareTarget::kVersion, CompareResult::kEqual, 0)};
  inner.success = {op_put("saw-nothing", "1")};
  TxnRequest outer;
  outer.success = {op_put("created", "1"), op_txn(inner)};
  txn(outer);
  EXPECT_EQ(get("saw-nothing").count, 1);
}

TEST_P(KvTxn, DuplicatePutIsRefused) {
  TxnRequest request;
  request.success = {op_put("q", "1"), op_put("q", "2")};
  const Status status = status_of(request);
  EXPECT_EQ(status.message(), "etcdserver: duplicate key given in txn request");
  EXPECT_EQ(status.detail(), ErrorDetail::kDuplicateKey);
  EXPECT_EQ(store().current_revision(), 1);
}

TEST_P(KvTxn, PutAndDeleteOfOneKeyIsRefused) {
  TxnRequest request;
  request.success = {op_delete("q"), op_put("q", "2")};
  EXPECT_EQ(status_of(request).detail(), ErrorDetail::kDuplicateKey);
  TxnRequest in_range;
  in_range.failure = {op_put("q/1", "2"), op_delete("q/", prefix_end("q/"))};
  EXPECT_EQ(status_of(in_range).detail(), ErrorDetail::kDuplicateKey);
}

TEST_P(KvTxn, DuplicatePutAcrossNestingIsRefused) {
  TxnRequest inner;
  inner.success = {op_put("q", "1")};
  TxnRequest request;
  request.success = {op_txn(inner), op_put("q", "2")};
  EXPECT_EQ(status_of(request).detail(), ErrorDetail::kDuplicateKey);
}

// etcd 3.4.23: then and else of a nested txn never both run, so they may put the same key.
TEST_P(KvTxn, SameKeyInThenAndElseOfANestedTxnIsAllowed) {
  TxnRequest inner;
  inner.success = {op_put("q", "1")};
  inner.failure = {op_put("q", "3")};
  TxnRequest request;
  request.success = {op_txn(inner)};
  EXPECT_TRUE(txn(request).succeeded);
  EXPECT_EQ(kv("q").value, "1");
}

// etcd 3.4.23 quirk: the duplicate check reads a "\0" range end literally, as an empty
// interval, so it conflicts with no put; the delete still deletes every key from `key` on.
TEST_P(KvTxn, DeleteWithNulRangeEndConflictsWithNoPut) {
  put("q", "1");
  put("s", "1");
  TxnRequest request;
  request.success = {op_delete("q", kAllKeys), op_put("r", "2")};
  const TxnResponse response = txn(request);
  EXPECT_EQ(std::get<DeleteRangeResponse>(response.responses[0].response).deleted, 2);
  EXPECT_EQ(keys_of(range(range_request("q", kAllKeys)).kvs), (std::vector<std::string>{"r"}));
}

// etcd 3.4.23: the duplicate check is order-dependent across sibling nested txns: a put is
// checked against the deletes of earlier siblings only.
TEST_P(KvTxn, DuplicateCheckAcrossNestedTxnsFollowsEtcdsOrder) {
  TxnRequest deletes;
  deletes.success = {op_delete("k")};
  TxnRequest puts;
  puts.success = {op_put("k", "1")};
  TxnRequest delete_first;
  delete_first.success = {op_txn(deletes), op_txn(puts)};
  EXPECT_EQ(status_of(delete_first).detail(), ErrorDetail::kDuplicateKey);
  TxnRequest put_first;
  put_first.success = {op_txn(puts), op_txn(deletes)};
  EXPECT_EQ(txn(put_first).revision, 2);
  EXPECT_EQ(get("k").count, 0);
}

TEST_P(KvTxn, IgnoreValueOnAMissingKeyFailsTheTxn) {
  PutRequest keep_value = put_request("missing", "");
  keep_value.ignore_value = true;
  TxnRequest request;
  request.success = {op_put("other", "1"), RequestOp{keep_value}};
  EXPECT_EQ(status_of(request).detail(), ErrorDetail::kKeyNotFound);
  EXPECT_EQ(get("other").count, 0);
}

TEST_P(KvTxn, PutWithIgnoreValueAfterItsKeyWasDeletedInTheSameTxnKeepsTheOldValue) {
  put("k", "old");
  TxnRequest request;
  PutRequest keep_value = put_request("k", "");
  keep_value.ignore_value = true;
  request.success = {op_delete("a", kAllKeys), RequestOp{keep_value}};
  txn(request);  // etcd panics here; dengine keeps the value the key had when the txn began
  EXPECT_EQ(kv("k").value, "old");
}

// etcd 3.4.23: no list may exceed 128 ops; a nested txn gets what its parent's longest list
// left of the budget.
TEST_P(KvTxn, TooManyOpsAreRefused) {
  TxnRequest request;
  for (int i = 0; i < 129; ++i) request.success.push_back(op_range("k" + std::to_string(i)));
  // The encoder refuses it before it reaches a log...
  EXPECT_FALSE(encode_command(request).has_value());
  // ...and etcd's check gives the same answer for a nested budget overrun that encodes fine.
  TxnRequest nested;
  for (int i = 0; i < 64; ++i) nested.success.push_back(op_range("n" + std::to_string(i)));
  TxnRequest outer;
  for (int i = 0; i < 64; ++i) outer.success.push_back(op_range("o" + std::to_string(i)));
  outer.success.push_back(op_txn(nested));  // 65 outer ops leave 63
  const Status status = status_of(outer);
  EXPECT_EQ(status.message(), "etcdserver: too many operations in txn request");
  outer.success.erase(outer.success.begin());  // 64 outer ops leave 64
  EXPECT_TRUE(status_of(outer).is_ok());
}

TEST_P(KvTxn, EmptyKeyInACompareOrOpIsRefused) {
  TxnRequest empty_compare_key;
  empty_compare_key.compare = {compare("", CompareTarget::kMod, CompareResult::kEqual, 0)};
  EXPECT_EQ(status_of(empty_compare_key).detail(), ErrorDetail::kEmptyKey);
  TxnRequest empty_op_key;
  empty_op_key.failure = {op_put("", "v")};
  EXPECT_EQ(status_of(empty_op_key).detail(), ErrorDetail::kEmptyKey);
}

// etcd 3.4.23: an unknown lease fails the txn only if its put is on the taken branch.
TEST_P(KvTxn, UnknownLeaseFailsOnlyOnTheTakenBranch) {
  TxnRequest request;
  request.compare = {compare("missing", CompareTarget::kVersion, CompareResult::kEqual, 1)};
  request.success = {op_put("z", "v", 9999)};
  request.failure = {op_put("y", "v")};
  EXPECT_FALSE(txn(request).succeeded);
  std::swap(request.success, request.failure);
  EXPECT_EQ(status_of(request).message(), "etcdserver: requested lease not found");
}

TEST_P(KvTxn, RangeAtACompactedRevisionFailsTheWholeTxn) {
  put("a", "1");
  put("a", "2");
  compact(3);
  TxnRequest request;
  RangeRequest old_read = range_request("a");
  old_read.revision = 2;
  request.success = {op_put("b", "1"), RequestOp{old_read}};
  EXPECT_EQ(status_of(request).detail(), ErrorDetail::kCompacted);
  EXPECT_EQ(get("b").count, 0);
  // etcd 3.4.23 quirk: inside a txn only revision 0 means "current"; a negative revision is
  // checked like any other, so it fails once anything was compacted.
  RangeRequest negative = range_request("a");
  negative.revision = -1;
  TxnRequest negative_txn;
  negative_txn.success = {RequestOp{negative}};
  EXPECT_EQ(status_of(negative_txn).detail(), ErrorDetail::kCompacted);
}

TEST_P(KvTxn, RangeAtAFutureRevisionFailsTheTxn) {
  TxnRequest request;
  RangeRequest future = range_request("a");
  future.revision = 5;
  request.success = {RequestOp{future}};
  EXPECT_EQ(status_of(request).detail(), ErrorDetail::kFutureRevision);
}

TEST_P(KvTxn, ReadOnlyTxnIsServedOutsideTheLog) {
  put("a", "1");
  TxnRequest request;
  request.compare = {compare_value("a", CompareResult::kEqual, "1")};
  request.success = {op_range("a")};
  const Result<TxnResponse> response = store().read_only_txn(request);
  ASSERT_TRUE(response.has_value());
  EXPECT_TRUE(response->succeeded);
  EXPECT_EQ(response->revision, 2);
  EXPECT_EQ(values_of(std::get<RangeResponse>(response->responses[0].response).kvs),
            (std::vector<std::string>{"1"}));
  request.failure = {op_put("b", "2")};
  EXPECT_FALSE(store().read_only_txn(request).has_value());
  EXPECT_FALSE(is_read_only(request));
}

}  // namespace
}  // namespace dengine::kv::test
