// Lease semantics: grant, attach and detach through puts and deletes, revoke, checkpoints.
// Expiry is the runtime's (it proposes a revoke); the state machine has no clock.

#include <map>

#include <gtest/gtest.h>

#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

class KvLease : public KvSemanticsTest {
 protected:
  std::vector<std::string> keys_of_lease(LeaseId id) {
    const std::optional<LeaseInfo> info = store().lease(id, /*with_keys=*/true);
    EXPECT_TRUE(info.has_value()) << "lease " << id;
    return info ? info->keys : std::vector<std::string>{};
  }
};
DENGINE_KV_SUITE(KvLease);

TEST_P(KvLease, GrantReturnsTheIdAndTtl) {
  const LeaseGrantResponse response = grant(100, 600);
  EXPECT_EQ(response.id, 100);
  EXPECT_EQ(response.ttl_seconds, 600);
  const std::optional<LeaseInfo> info = store().lease(100, false);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->granted_ttl_seconds, 600);
  EXPECT_EQ(info->remaining_ttl_seconds, 0);
}

// etcd 3.4.23 (default election timeout): TTLs 1, 0 and -5 are all granted as 2 seconds.
TEST_P(KvLease, TtlBelowTheMinimumIsRaisedToIt) {
  EXPECT_EQ(grant(1, 1).ttl_seconds, 2);
  EXPECT_EQ(grant(2, 0).ttl_seconds, 2);
  EXPECT_EQ(grant(3, -5).ttl_seconds, 2);
}

TEST_P(KvLease, TooLargeTtlIsRefused) {
  EXPECT_EQ(status_of(LeaseGrantRequest{1, 9'000'000'001}).message(),
            "etcdserver: too large lease TTL");
  EXPECT_TRUE(status_of(LeaseGrantRequest{1, 9'000'000'000}).is_ok());
}

TEST_P(KvLease, DuplicateIdIsRefused) {
  grant(100, 60);
  const Status status = status_of(LeaseGrantRequest{100, 60});
  EXPECT_EQ(status.message(), "etcdserver: lease already exists");
  EXPECT_EQ(status.detail(), ErrorDetail::kLeaseExists);
}

TEST_P(KvLease, NegativeIdsAreValid) {
  EXPECT_EQ(grant(-5, 60).id, -5);
  EXPECT_TRUE(store().lease(-5, false).has_value());
}

TEST_P(KvLease, ZeroIdIsChosenDeterministicallyFromTheEntryIndex) {
  const LeaseGrantResponse first = grant(kNoLease, 60);
  EXPECT_GT(first.id, 0);
  // Another replica applying the same entry at the same index chooses the same id.
  auto replica = GetParam().create();
  const Result<ApplyResult> replayed =
      replica->apply(next_index() - 1, encoded(LeaseGrantRequest{kNoLease, 60}));
  ASSERT_TRUE(replayed.has_value());
  EXPECT_EQ(std::get<LeaseGrantResponse>(replayed->response).id, first.id);
  // A second choice never collides with an existing lease.
  EXPECT_NE(grant(kNoLease, 60).id, first.id);
}

// The chosen ids are stored (in the state machine, in clients' sessions): a change to the
// function that picks them would give a restarted replica different ids than its peers.
TEST_P(KvLease, ZeroIdsAreTheSameFunctionOfTheIndexAsEver) {
  const Index index = next_index();
  const LeaseGrantResponse chosen = grant(kNoLease, 60);
  // splitmix64 of the index, top bit cleared: the values from before its one copy.
  const std::map<Index, LeaseId> ever = {{1, 1227844342346046657},
                                         {2, 1682153688901572302},
                                         {3, 2092789425003139053},
                                         {42, 4456085495900499605},
                                         {1000, 4332104999045480776}};
  ASSERT_TRUE(ever.contains(index)) << "index " << index;
  EXPECT_EQ(chosen.id, ever.at(index));
  for (const auto& [at, id] : ever) {
    auto replica = GetParam().create();
    const Result<ApplyResult> granted =
        replica->apply(at, encoded(LeaseGrantRequest{kNoLease, 60}));
    ASSERT_TRUE(granted.has_value()) << at;
    EXPECT_EQ(std::get<LeaseGrantResponse>(granted->response).id, id) << "at index " << at;
  }
}

TEST_P(KvLease, PutWithUnknownLeaseIsRefused) {
  EXPECT_EQ(status_of(put_request("k", "v", 777)).message(),
            "etcdserver: requested lease not found");
  EXPECT_EQ(get("k").count, 0);
}

TEST_P(KvLease, PutAttachesTheKeyAndRecordsTheLease) {
  grant(500, 600);
  put("k", "v", 500);
  EXPECT_EQ(kv("k").lease, 500);
  EXPECT_EQ(keys_of_lease(500), (std::vector<std::string>{"k"}));
}

TEST_P(KvLease, ReputWithAnotherLeaseMovesTheKey) {
  grant(500, 600);
  grant(501, 600);
  put("d", "l", 501);
  put("d", "l2", 500);
  EXPECT_EQ(keys_of_lease(500), (std::vector<std::string>{"d"}));
  EXPECT_TRUE(keys_of_lease(501).empty());
}

TEST_P(KvLease, ReputWithoutALeaseDetachesTheKey) {
  grant(500, 600);
  put("c", "l", 500);
  put("c", "no lease");
  EXPECT_TRUE(keys_of_lease(500).empty());
  EXPECT_EQ(kv("c").lease, kNoLease);
}

TEST_P(KvLease, IgnoreLeaseKeepsTheAttachment) {
  grant(500, 600);
  put("c", "l", 500);
  PutRequest request = put_request("c", "new value");
  request.ignore_lease = true;
  put(request);
  EXPECT_EQ(kv("c").lease, 500);
  EXPECT_EQ(keys_of_lease(500), (std::vector<std::string>{"c"}));
}

TEST_P(KvLease, DeleteDetachesTheKey) {
  grant(500, 600);
  put("c", "l", 500);
  del("c");
  EXPECT_TRUE(keys_of_lease(500).empty());
}

TEST_P(KvLease, KeysOfALeaseAreSorted) {
  grant(500, 600);
  for (const char* key : {"s/c", "s/a", "s/d"}) put(key, "v", 500);
  EXPECT_EQ(keys_of_lease(500), (std::vector<std::string>{"s/a", "s/c", "s/d"}));
  EXPECT_TRUE(store().lease(500, /*with_keys=*/false)->keys.empty());
}

// etcd 3.4.23: revoking deletes the lease's keys at one revision, in key order.
TEST_P(KvLease, RevokeDeletesAttachedKeysInOneRevision) {
  grant(500, 600);
  put("s/d", "l2", 500);  // 2
  put("s/a", "y", 500);   // 3
  put("s/b", "free");     // 4
  const ApplyResult result = apply(LeaseRevokeRequest{500});
  ASSERT_TRUE(result.status.is_ok());
  EXPECT_EQ(std::get<LeaseRevokeResponse>(result.response).revision, 5);
  ASSERT_EQ(result.events.size(), 2U);
  EXPECT_EQ(result.events[0].kv.key, "s/a");
  EXPECT_EQ(result.events[1].kv.key, "s/d");
  for (const Event& event : result.events) {
    EXPECT_EQ(event.type, EventType::kDelete);
    EXPECT_EQ(event.kv.mod_revision, 5);
  }
  EXPECT_EQ(keys_of(range(range_request("s/", prefix_end("s/"))).kvs),
            (std::vector<std::string>{"s/b"}));
  EXPECT_FALSE(store().lease(500, false).has_value());
}

TEST_P(KvLease, RevokeWithoutKeysDoesNotBumpRevision) {
  put("a", "1");
  grant(501, 600);
  EXPECT_EQ(revoke(501).revision, 2);
  EXPECT_EQ(store().current_revision(), 2);
}

TEST_P(KvLease, RevokeOfUnknownLeaseFails) {
  const Status status = status_of(LeaseRevokeRequest{100});
  EXPECT_EQ(status.message(), "etcdserver: requested lease not found");
  grant(100, 60);
  revoke(100);
  EXPECT_EQ(status_of(LeaseRevokeRequest{100}).detail(), ErrorDetail::kLeaseNotFound);
}

TEST_P(KvLease, CheckpointRecordsTheRemainingTtl) {
  grant(7, 600);
  LeaseCheckpointRequest request;
  request.checkpoints = {{7, 120}, {8, 30}};  // lease 8 does not exist: ignored, as in etcd
  const ApplyResult result = apply(request);
  EXPECT_TRUE(result.status.is_ok());
  EXPECT_EQ(store().lease(7, false)->remaining_ttl_seconds, 120);
  EXPECT_FALSE(store().lease(8, false).has_value());
  EXPECT_EQ(store().current_revision(), 1);
}

TEST_P(KvLease, LeasesAreListedInIdOrder) {
  for (LeaseId id : {30, -5, 10}) grant(id, 60);
  std::vector<LeaseId> ids;
  for (const LeaseInfo& info : store().leases()) ids.push_back(info.id);
  EXPECT_EQ(ids, (std::vector<LeaseId>{-5, 10, 30}));
}

TEST_P(KvLease, UnknownLeaseHasNoInfo) {
  EXPECT_FALSE(store().lease(1234, true).has_value());
}

TEST_P(KvLease, TxnCanCompareALeaseAndPutWithOne) {
  grant(5, 60);
  TxnRequest request;
  request.compare = {compare("k", CompareTarget::kLease, CompareResult::kEqual, 0)};
  request.success = {op_put("k", "v", 5)};
  EXPECT_TRUE(txn(request).succeeded);
  EXPECT_EQ(kv("k").lease, 5);
  EXPECT_FALSE(txn(request).succeeded);
}

}  // namespace
}  // namespace dengine::kv::test
