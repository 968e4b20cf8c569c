// The outcome a leader sends back for a forwarded write: every response kind survives the trip
// whole, a failure before apply stays a failure, a command's own error stays an applied
// outcome, and damaged bytes are refused by name, never trusted.

#include "net/outcome_codec.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

namespace dengine::net {
namespace {

KeyValue kv(const std::string& key, const std::string& value, int64_t revision) {
  return KeyValue{.key = key,
                  .create_revision = 2,
                  .mod_revision = revision,
                  .version = 3,
                  .value = value,
                  .lease = 0x1234};
}

ApplyResult applied(KvResponse response, int64_t revision) {
  ApplyResult result;
  result.response = std::move(response);
  result.revision = revision;
  result.log_index = static_cast<Index>(revision) + 40;
  return result;
}

void expect_round_trip(const ApplyResult& sent) {
  Result<ApplyResult> received = decode_outcome(encode_outcome(sent));
  ASSERT_TRUE(received) << received.status().message();
  EXPECT_EQ(received->status.code(), sent.status.code());
  EXPECT_EQ(received->status.message(), sent.status.message());
  EXPECT_EQ(received->revision, sent.revision);
  EXPECT_EQ(received->log_index, sent.log_index);
  EXPECT_TRUE(received->response == sent.response);
}

TxnResponse nested_txn() {
  TxnResponse inner{.revision = 0, .succeeded = false, .responses = {}};
  inner.responses.push_back(ResponseOp{PutResponse{.revision = 0, .prev_kv = std::nullopt}});
  TxnResponse outer{.revision = 9, .succeeded = true, .responses = {}};
  outer.responses.push_back(
      ResponseOp{RangeResponse{.revision = 9,
                               .kvs = {kv("a", "1", 5), kv("b", std::string(1000, 'x'), 6)},
                               .more = true,
                               .count = 7}});
  outer.responses.push_back(ResponseOp{PutResponse{.revision = 9, .prev_kv = kv("c", "", 4)}});
  outer.responses.push_back(ResponseOp{DeleteRangeResponse{
      .revision = 9, .deleted = 1, .prev_kvs = {kv(std::string("\0k", 2), "v", 3)}}});
  outer.responses.push_back(ResponseOp{std::move(inner)});
  return outer;
}

TEST(OutcomeCodec, EveryResponseKindSurvivesTheTrip) {
  expect_round_trip(applied(std::monostate{}, 0));
  expect_round_trip(applied(PutResponse{.revision = 4, .prev_kv = kv("k", "old", 3)}, 4));
  expect_round_trip(applied(PutResponse{.revision = 4, .prev_kv = std::nullopt}, 4));
  expect_round_trip(applied(
      DeleteRangeResponse{
          .revision = 5, .deleted = 2, .prev_kvs = {kv("a", "1", 2), kv("b", "", 3)}},
      5));
  expect_round_trip(applied(nested_txn(), 9));
  expect_round_trip(applied(CompactionResponse{.revision = 11}, 11));
  expect_round_trip(
      applied(LeaseGrantResponse{.revision = 12, .id = 0x7fff, .ttl_seconds = 60}, 12));
  expect_round_trip(applied(LeaseRevokeResponse{.revision = 13}, 13));
  expect_round_trip(applied(LeaseCheckpointResponse{.revision = 14}, 14));
}

TEST(OutcomeCodec, ACommandsOwnErrorStaysAnAppliedOutcome) {
  ApplyResult refused;
  refused.status = Status::of(ErrorDetail::kLeaseNotFound);
  refused.revision = 8;
  Result<ApplyResult> received = decode_outcome(encode_outcome(refused));
  ASSERT_TRUE(received) << received.status().message();
  EXPECT_EQ(received->status.message(), refused.status.message());
  EXPECT_EQ(received->status.detail(), ErrorDetail::kLeaseNotFound);
  EXPECT_EQ(received->revision, 8);
}

TEST(OutcomeCodec, AFailureBeforeApplyStaysAFailure) {
  const Result<ApplyResult> sent = Status::not_leader("raft: node 3 leads");
  Result<ApplyResult> received = decode_outcome(encode_outcome(sent));
  ASSERT_FALSE(received);
  EXPECT_EQ(received.status().code(), StatusCode::kNotLeader);
  EXPECT_EQ(received.status().message(), "raft: node 3 leads");
}

TEST(OutcomeCodec, DamagedBytesAreRefusedByName) {
  const std::string good = encode_outcome(applied(nested_txn(), 9));
  // Every truncation, and trailing bytes.
  for (size_t length = 0; length < good.size(); ++length) {
    Result<ApplyResult> cut = decode_outcome(good.substr(0, length));
    ASSERT_FALSE(cut) << "a truncation at " << length << " was accepted";
    EXPECT_NE(cut.status().message().find("forwarded outcome"), std::string::npos);
  }
  EXPECT_FALSE(decode_outcome(good + "x"));
  std::string other_version = good;
  other_version[0] = 9;
  EXPECT_EQ(decode_outcome(other_version).status().code(), StatusCode::kFailedPrecondition);
  // Random damage never crashes; what decodes at all is well-formed by construction.
  std::mt19937 random(7);
  for (int round = 0; round < 20'000; ++round) {
    std::string damaged = good;
    for (int flips = 0; flips < 3; ++flips) {
      damaged[random() % damaged.size()] = static_cast<char>(random());
    }
    (void)decode_outcome(damaged);
  }
}

}  // namespace
}  // namespace dengine::net
