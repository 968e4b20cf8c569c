#pragma once

// The fixture of the shared etcd semantics suite: a store from the parameter's factory, fed
// encoded commands at rising log indexes, with small builders for requests. Every helper that
// applies a command expects the apply itself to succeed; the command's own outcome is in the
// returned ApplyResult (or checked by the *_ok helpers).

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "dengine/kv_types.h"
#include "dengine/state_machine.h"
#include "kv/kv_command.h"
#include "tests/kv/kv_store_factory.h"

namespace dengine {
// Readable values in gtest failure messages.
void PrintTo(const KeyValue& kv, std::ostream* os);
void PrintTo(const Event& event, std::ostream* os);
void PrintTo(const Status& status, std::ostream* os);
}  // namespace dengine

namespace dengine::kv::test {

// ---- request builders ----
PutRequest put_request(std::string key, std::string value, LeaseId lease = kNoLease);
RangeRequest range_request(std::string key, std::string range_end = {});
RequestOp op_put(std::string key, std::string value, LeaseId lease = kNoLease);
RequestOp op_range(std::string key, std::string range_end = {});
RequestOp op_delete(std::string key, std::string range_end = {});
RequestOp op_txn(TxnRequest txn);
Compare compare(std::string key, CompareTarget target, CompareResult result, int64_t operand);
Compare compare_value(std::string key, CompareResult result, std::string value);
// etcd's prefix convention, as clients compute it ("a/" -> "a0").
std::string prefix_end(std::string prefix);
inline const std::string kAllKeys{"\0", 1};  // range_end: every key >= key

// The command's encoding; fails the test if it does not encode.
std::string encoded(const KvCommand& command);

std::vector<std::string> keys_of(const std::vector<KeyValue>& kvs);
std::vector<std::string> values_of(const std::vector<KeyValue>& kvs);

class KvSemanticsTest : public ::testing::TestWithParam<KvStoreFactory> {
 protected:
  void SetUp() override;
  void TearDown() override;

  StateMachine& store() { return *store_; }
  // The index the next command is applied at.
  Index next_index() const { return next_index_; }
  void skip_indexes(Index count) { next_index_ += count; }

  // Encodes and applies `command` at the next index.
  ApplyResult apply(const KvCommand& command);
  // Applies raw bytes at `index` (for idempotence and corruption tests).
  Result<ApplyResult> apply_bytes(Index index, const std::string& bytes);

  // Each applies one command and expects its status to be OK.
  PutResponse put(const PutRequest& request);
  int64_t put(std::string key, std::string value, LeaseId lease = kNoLease);
  DeleteRangeResponse del(std::string key, std::string range_end = {}, bool prev_kv = false);
  TxnResponse txn(const TxnRequest& request);
  LeaseGrantResponse grant(LeaseId id, int64_t ttl_seconds);
  LeaseRevokeResponse revoke(LeaseId id);
  CompactionResponse compact(int64_t revision);

  // The command's error (OK if it succeeded).
  Status status_of(const KvCommand& command);

  // Reads outside the log; expect success.
  RangeResponse range(const RangeRequest& request);
  RangeResponse get(std::string key) { return range(range_request(std::move(key))); }
  // The single live KeyValue of `key`; fails the test if absent.
  KeyValue kv(const std::string& key);
  std::vector<Event> events_from(int64_t start_revision, bool prev_kv = false,
                                 std::string key = std::string("\0", 1),
                                 std::string range_end = std::string("\0", 1));

  // Replaces the store by what a crash and restart leave of it.
  void crash_and_recover();

 private:
  std::unique_ptr<StateMachine> store_;
  Index next_index_ = 1;
};

// Instantiates a suite of the shared semantics over every store.
std::string factory_name(const ::testing::TestParamInfo<KvStoreFactory>& param_info);
#define DENGINE_KV_SUITE(suite)                                                             \
  INSTANTIATE_TEST_SUITE_P(AllStores, suite,                                                \
                           ::testing::ValuesIn(::dengine::kv::test::all_store_factories()), \
                           ::dengine::kv::test::factory_name)

}  // namespace dengine::kv::test
