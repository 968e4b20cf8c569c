#include "tests/kv/kv_test_util.h"

#include <utility>

#include "kv/command_codec.h"

namespace dengine {

void PrintTo(const KeyValue& kv, std::ostream* os) {
  *os << "{" << kv.key << "=" << kv.value << " create=" << kv.create_revision
      << " mod=" << kv.mod_revision << " version=" << kv.version << " lease=" << kv.lease << "}";
}

void PrintTo(const Event& event, std::ostream* os) {
  *os << (event.type == EventType::kPut ? "PUT " : "DELETE ");
  PrintTo(event.kv, os);
  if (event.prev_kv) {
    *os << " prev ";
    PrintTo(*event.prev_kv, os);
  }
}

void PrintTo(const Status& status, std::ostream* os) {
  *os << status.to_string();
}

}  // namespace dengine

namespace dengine::kv::test {

PutRequest put_request(std::string key, std::string value, LeaseId lease) {
  PutRequest request;
  request.key = std::move(key);
  request.value = std::move(value);
  request.lease = lease;
  return request;
}

RangeRequest range_request(std::string key, std::string range_end) {
  RangeRequest request;
  request.key = std::move(key);
  request.range_end = std::move(range_end);
  return request;
}

RequestOp op_put(std::string key, std::string value, LeaseId lease) {
  return RequestOp{put_request(std::move(key), std::move(value), lease)};
}

RequestOp op_range(std::string key, std::string range_end) {
  return RequestOp{range_request(std::move(key), std::move(range_end))};
}

RequestOp op_delete(std::string key, std::string range_end) {
  DeleteRangeRequest request;
  request.key = std::move(key);
  request.range_end = std::move(range_end);
  return RequestOp{request};
}

RequestOp op_txn(TxnRequest txn) {
  return RequestOp{std::move(txn)};
}

Compare compare(std::string key, CompareTarget target, CompareResult result, int64_t operand) {
  Compare c;
  c.key = std::move(key);
  c.target = target;
  c.result = result;
  switch (target) {
    case CompareTarget::kVersion: c.version = operand; break;
    case CompareTarget::kCreate: c.create_revision = operand; break;
    case CompareTarget::kMod: c.mod_revision = operand; break;
    case CompareTarget::kLease: c.lease = operand; break;
    case CompareTarget::kValue: break;
  }
  return c;
}

Compare compare_value(std::string key, CompareResult result, std::string value) {
  Compare c;
  c.key = std::move(key);
  c.target = CompareTarget::kValue;
  c.result = result;
  c.value = std::move(value);
  return c;
}

std::string prefix_end(std::string prefix) {
  while (!prefix.empty()) {
    if (static_cast<unsigned char>(prefix.back()) < 0xff) {
      prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return kAllKeys;
}

std::string encoded(const KvCommand& command) {
  Result<std::string> bytes = encode_command(command);
  EXPECT_TRUE(bytes.has_value()) << bytes.status().to_string();
  return bytes.has_value() ? std::move(bytes).value() : std::string();
}

std::vector<std::string> keys_of(const std::vector<KeyValue>& kvs) {
  std::vector<std::string> keys;
  for (const KeyValue& kv : kvs) keys.push_back(kv.key);
  return keys;
}

std::vector<std::string> values_of(const std::vector<KeyValue>& kvs) {
  std::vector<std::string> values;
  for (const KeyValue& kv : kvs) values.push_back(kv.value);
  return values;
}

std::string factory_name(const ::testing::TestParamInfo<KvStoreFactory>& param_info) {
  return param_info.param.name;
}

// ---- fixture ----

void KvSemanticsTest::SetUp() {
  store_ = GetParam().create();
}

void KvSemanticsTest::TearDown() {
  if (store_ != nullptr) {
    Status invariants = GetParam().check_invariants(*store_);
    EXPECT_TRUE(invariants.is_ok()) << invariants.to_string();
  }
}

Result<ApplyResult> KvSemanticsTest::apply_bytes(Index index, const std::string& bytes) {
  return store_->apply(index, bytes);
}

ApplyResult KvSemanticsTest::apply(const KvCommand& command) {
  Result<std::string> bytes = encode_command(command);
  EXPECT_TRUE(bytes.has_value()) << bytes.status().to_string();
  if (!bytes) return ApplyResult{};
  Result<ApplyResult> result = store_->apply(next_index_++, *bytes);
  EXPECT_TRUE(result.has_value()) << result.status().to_string();
  if (!result) return ApplyResult{};
  EXPECT_FALSE(result->already_applied);
  return std::move(result).value();
}

namespace {

template <typename Response>
Response expect_response(const ApplyResult& result) {
  EXPECT_TRUE(result.status.is_ok()) << result.status.to_string();
  const auto* response = std::get_if<Response>(&result.response);
  EXPECT_NE(response, nullptr);
  return response != nullptr ? *response : Response{};
}

}  // namespace

PutResponse KvSemanticsTest::put(const PutRequest& request) {
  return expect_response<PutResponse>(apply(request));
}

int64_t KvSemanticsTest::put(std::string key, std::string value, LeaseId lease) {
  return put(put_request(std::move(key), std::move(value), lease)).revision;
}

DeleteRangeResponse KvSemanticsTest::del(std::string key, std::string range_end, bool prev_kv) {
  DeleteRangeRequest request;
  request.key = std::move(key);
  request.range_end = std::move(range_end);
  request.prev_kv = prev_kv;
  return expect_response<DeleteRangeResponse>(apply(request));
}

TxnResponse KvSemanticsTest::txn(const TxnRequest& request) {
  return expect_response<TxnResponse>(apply(request));
}

LeaseGrantResponse KvSemanticsTest::grant(LeaseId id, int64_t ttl_seconds) {
  return expect_response<LeaseGrantResponse>(apply(LeaseGrantRequest{id, ttl_seconds}));
}

LeaseRevokeResponse KvSemanticsTest::revoke(LeaseId id) {
  return expect_response<LeaseRevokeResponse>(apply(LeaseRevokeRequest{id}));
}

CompactionResponse KvSemanticsTest::compact(int64_t revision) {
  return expect_response<CompactionResponse>(apply(CompactionRequest{revision}));
}

Status KvSemanticsTest::status_of(const KvCommand& command) {
  return apply(command).status;
}

RangeResponse KvSemanticsTest::range(const RangeRequest& request) {
  Result<RangeResponse> response = store_->range(request);
  EXPECT_TRUE(response.has_value()) << response.status().to_string();
  return response.has_value() ? std::move(response).value() : RangeResponse{};
}

KeyValue KvSemanticsTest::kv(const std::string& key) {
  RangeResponse response = get(key);
  EXPECT_EQ(response.kvs.size(), 1U) << "key " << key;
  return response.kvs.empty() ? KeyValue{} : response.kvs.front();
}

std::vector<Event> KvSemanticsTest::events_from(int64_t start_revision, bool prev_kv,
                                                std::string key, std::string range_end) {
  EventQuery query;
  query.key = std::move(key);
  query.range_end = std::move(range_end);
  query.start_revision = start_revision;
  query.prev_kv = prev_kv;
  query.max_revisions = 1'000'000;
  Result<EventBatch> batch = store_->events(query);
  EXPECT_TRUE(batch.has_value()) << batch.status().to_string();
  return batch.has_value() ? std::move(batch->events) : std::vector<Event>{};
}

void KvSemanticsTest::crash_and_recover() {
  store_ = GetParam().crash_and_recover(std::move(store_));
  ASSERT_NE(store_, nullptr);
}

}  // namespace dengine::kv::test
