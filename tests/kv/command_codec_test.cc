// The replicated command encoding is an on-disk format: round trips, pinned bytes, bounds,
// and malformed input (random and mutated bytes with a fixed seed) that must never crash.

#include "kv/command_codec.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kv/memory_kv_store.h"
#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

TxnRequest sample_txn() {
  TxnRequest inner;
  inner.compare = {compare_value("x", CompareResult::kNotEqual, std::string("\0v", 2))};
  inner.success = {op_delete("d", kAllKeys)};
  TxnRequest txn;
  Compare c = compare("k", CompareTarget::kLease, CompareResult::kLess, -3);
  c.range_end = "l";
  c.version = 4;  // an operand of another target survives the round trip too
  txn.compare = {c, compare("m", CompareTarget::kMod, CompareResult::kGreater, 1LL << 40)};
  RangeRequest range = range_request("a", "z");
  range.limit = 7;
  range.revision = -2;
  range.sort_order = SortOrder::kDescend;
  range.sort_target = SortTarget::kValue;
  range.keys_only = true;
  range.count_only = true;
  range.min_mod_revision = 1;
  range.max_mod_revision = 2;
  range.min_create_revision = 3;
  range.max_create_revision = 4;
  PutRequest put = put_request("p", "q", 12);
  put.prev_kv = true;
  put.ignore_value = true;
  put.ignore_lease = true;
  txn.success = {RequestOp{range}, RequestOp{put}, op_txn(inner)};
  txn.failure = {op_delete("e")};
  return txn;
}

std::vector<KvCommand> one_of_each_kind() {
  DeleteRangeRequest del;
  del.key = "a";
  del.range_end = "b";
  del.prev_kv = true;
  LeaseCheckpointRequest checkpoints;
  checkpoints.checkpoints = {{1, 2}, {-3, 4}};
  return {put_request("k", "v", 5),
          del,
          sample_txn(),
          CompactionRequest{99},
          LeaseGrantRequest{7, 60},
          LeaseRevokeRequest{-7},
          checkpoints,
          TxnRequest{},
          MemberPeerUrlsRequest{0x1234567890abcdefULL, {"http://10.0.0.1:2380", "http://h:1"}},
          MemberPublishRequest{2, "m2", {"http://c:2379"}, {"http://p:2380"}},
          MemberRemoveRequest{3},
          AlarmChangeRequest{true, Alarm{7, AlarmType::kNoSpace}},
          AlarmChangeRequest{false, Alarm{8, AlarmType::kCorrupt}}};
}

TEST(CommandCodec, EveryKindRoundTrips) {
  for (const KvCommand& command : one_of_each_kind()) {
    Result<std::string> bytes = encode_command(command);
    ASSERT_TRUE(bytes.has_value()) << bytes.status().to_string();
    Result<KvCommand> decoded = decode_command(*bytes);
    ASSERT_TRUE(decoded.has_value()) << decoded.status().to_string();
    EXPECT_TRUE(*decoded == command) << "kind " << command.index();
  }
}

// Pinned: if this changes, old WAL entries and snapshots would be misread.
TEST(CommandCodec, PutEncodingIsPinned) {
  PutRequest put = put_request("k", "v", 5);
  put.prev_kv = true;
  const std::string expected(
      "\x01\x01"                          // format 1, kind put
      "\x01\x00\x00\x00k"                 // key
      "\x01\x00\x00\x00v"                 // value
      "\x05\x00\x00\x00\x00\x00\x00\x00"  // lease
      "\x01",                             // flags: prev_kv
      21);
  EXPECT_EQ(*encode_command(put), expected);
  EXPECT_EQ(*encode_command(CompactionRequest{258}),
            std::string("\x01\x04\x02\x01\x00\x00\x00\x00\x00\x00", 10));
}

TEST(CommandCodec, MemberEncodingsArePinned) {
  EXPECT_EQ(*encode_command(MemberRemoveRequest{0x0102}),
            std::string("\x01\x0a\x02\x01\x00\x00\x00\x00\x00\x00", 10));
  EXPECT_EQ(*encode_command(MemberPeerUrlsRequest{1, {"u"}}),
            std::string("\x01\x08"
                        "\x01\x00\x00\x00\x00\x00\x00\x00"  // id
                        "\x01\x00\x00\x00"                  // one URL
                        "\x01\x00\x00\x00u",
                        19));
  EXPECT_EQ(*encode_command(MemberPublishRequest{1, "n", {}, {"p"}}),
            std::string("\x01\x09"
                        "\x01\x00\x00\x00\x00\x00\x00\x00"    // id
                        "\x01\x00\x00\x00n"                   // name
                        "\x00\x00\x00\x00"                    // no client URLs
                        "\x01\x00\x00\x00\x01\x00\x00\x00p",  // one peer URL
                        28));
  EXPECT_EQ(decode_command(std::string("\x01\x0a\x00\x00\x00\x00\x00\x00\x00\x00", 10))
                .status()
                .message(),
            "kv command: member id is 0 (at byte 10 of 10)");
}

TEST(CommandCodec, UnknownFormatVersionIsRefusedAsNewer) {
  std::string bytes = *encode_command(CompactionRequest{1});
  bytes[0] = 2;
  const Result<KvCommand> decoded = decode_command(bytes);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(decoded.status().message().find("format version 2"), std::string::npos);
}

TEST(CommandCodec, MalformedInputIsCorruptionNamingTheField) {
  EXPECT_EQ(decode_command("").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(decode_command(std::string("\x01\x0c", 2)).status().message(),
            "kv command: command kind is unknown (at byte 2 of 2)");
  std::string trailing = *encode_command(LeaseRevokeRequest{1}) + "x";
  EXPECT_NE(decode_command(trailing).status().message().find("unexpected bytes"),
            std::string::npos);
  PutRequest put = put_request("k", "v");
  std::string bad_flags = *encode_command(put);
  bad_flags.back() = '\x08';
  EXPECT_NE(decode_command(bad_flags).status().message().find("put flags has unknown bits"),
            std::string::npos);
}

TEST(CommandCodec, EveryTruncationIsCorruption) {
  for (const KvCommand& command : one_of_each_kind()) {
    const std::string bytes = *encode_command(command);
    for (size_t length = 0; length < bytes.size(); ++length) {
      const Result<KvCommand> decoded = decode_command(bytes.substr(0, length));
      EXPECT_FALSE(decoded.has_value()) << "kind " << command.index() << " cut at " << length;
    }
  }
}

TEST(CommandCodec, OversizedKeyOrValueIsRefusedByTheEncoder) {
  const std::string too_long(kv_limits::kMaxKeyBytes + 1, 'k');
  const Result<std::string> key = encode_command(put_request(too_long, "v"));
  ASSERT_FALSE(key.has_value());
  EXPECT_NE(key.status().message().find("key of 1572865 bytes exceeds the bound of 1572864"),
            std::string::npos);
  EXPECT_FALSE(encode_command(put_request("k", too_long)).has_value());
  EXPECT_TRUE(
      encode_command(put_request("k", std::string(kv_limits::kMaxValueBytes, 'v'))).has_value());
}

TEST(CommandCodec, TooLargeRequestIsRefusedWithEtcdsError) {
  TxnRequest txn;
  for (int i = 0; i < 2; ++i) {
    txn.success.push_back(op_put("k" + std::to_string(i), std::string(1'200'000, 'v')));
  }
  const Result<std::string> bytes = encode_command(txn);
  ASSERT_FALSE(bytes.has_value());
  EXPECT_EQ(bytes.status().message(), "etcdserver: request is too large");
}

TEST(CommandCodec, TooManyOpsOrCheckpointsAreRefused) {
  TxnRequest txn;
  txn.compare.resize(kv_limits::kMaxTxnOps + 1,
                     compare("k", CompareTarget::kMod, CompareResult::kEqual, 0));
  EXPECT_EQ(encode_command(txn).status().message(),
            "etcdserver: too many operations in txn request");
  LeaseCheckpointRequest checkpoints;
  checkpoints.checkpoints.resize(kv_limits::kMaxLeaseCheckpointsPerCommand + 1);
  EXPECT_FALSE(encode_command(checkpoints).has_value());
}

TEST(CommandCodec, NestingDeeperThanTheBoundIsRefused) {
  TxnRequest txn;
  for (size_t depth = 1; depth < kv_limits::kMaxTxnDepth; ++depth) {
    TxnRequest outer;
    outer.success = {op_txn(std::move(txn))};
    txn = std::move(outer);
  }
  ASSERT_TRUE(encode_command(txn).has_value());  // exactly at the bound
  TxnRequest deeper;
  deeper.success = {op_txn(txn)};
  EXPECT_FALSE(encode_command(deeper).has_value());
  // A forged encoding that nests deeper is refused by the decoder.
  std::string forged("\x01\x03", 2);
  for (size_t i = 0; i <= kv_limits::kMaxTxnDepth; ++i) {
    forged += std::string("\x00\x00\x00\x00\x01\x00\x00\x00\x04", 9);  // 0 compares, 1 op: txn
  }
  const Result<KvCommand> decoded = decode_command(forged);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.status().message().find("nests deeper"), std::string::npos);
}

TEST(CommandCodec, ForgedCountsAreRefusedBeforeAllocating) {
  // A txn claiming 100 compares in a 10-byte input.
  const std::string forged("\x01\x03\x64\x00\x00\x00\x00\x00\x00\x00", 10);
  const Result<KvCommand> decoded = decode_command(forged);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.status().message().find("compare count"), std::string::npos);
}

// Whatever decodes must also apply without crashing (all commands reach the state machine).
// Returns whether the bytes decoded.
bool decode_and_apply(MemoryKvStore& store, Index& index, const std::string& bytes) {
  const Result<KvCommand> decoded = decode_command(bytes);
  if (!decoded) {
    EXPECT_NE(decoded.status().code(), StatusCode::kOk);
    return false;
  }
  EXPECT_TRUE(store.apply(++index, bytes).has_value());
  return true;
}

TEST(CommandCodecFuzz, RandomBytesNeverCrash) {
  std::mt19937_64 rng(20240601);
  MemoryKvStore store;
  Index index = 0;
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (!bytes.empty() && rng() % 2 == 0) bytes[0] = '\x01';  // get past the format byte
    if (bytes.size() > 1 && rng() % 2 == 0) bytes[1] = static_cast<char>(1 + rng() % 7);
    if (decode_and_apply(store, index, bytes)) ++decoded;
  }
  EXPECT_GT(decoded, 20);  // the fixed seed reaches the state machine, not just the decoder
  EXPECT_TRUE(store.check_consistency().is_ok());
}

TEST(CommandCodecFuzz, MutatedValidCommandsNeverCrash) {
  std::mt19937_64 rng(7);
  MemoryKvStore store;
  Index index = 0;
  int decoded = 0;
  const std::vector<KvCommand> seeds = one_of_each_kind();
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = *encode_command(seeds[rng() % seeds.size()]);
    const int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations; ++m) {
      switch (rng() % 3) {
        case 0: bytes[rng() % bytes.size()] ^= static_cast<char>(1 << (rng() % 8)); break;
        case 1: bytes.resize(rng() % (bytes.size() + 1)); break;
        default: bytes.insert(rng() % (bytes.size() + 1), 1, static_cast<char>(rng())); break;
      }
      if (bytes.empty()) bytes = "\x01";
    }
    if (decode_and_apply(store, index, bytes)) ++decoded;
  }
  EXPECT_GT(decoded, 1000);
  EXPECT_TRUE(store.check_consistency().is_ok());
}

}  // namespace
}  // namespace dengine::kv::test
