// The snapshot format: pinned header, and damaged or forged snapshots (with a valid checksum,
// so the structure checks are what refuses them) that must never crash the store.

#include "kv/snapshot_codec.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "kv/command_codec.h"
#include "kv/memory_kv_store.h"
#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

// The snapshot format's trailer: FNV-1a over everything before it.
std::string with_checksum(std::string body) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (char c : body) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ULL;
  }
  for (int i = 0; i < 8; ++i) body.push_back(static_cast<char>((hash >> (8 * i)) & 0xff));
  return body;
}

MemoryKvStore populated_store() {
  MemoryKvStore store;
  Index index = 0;
  auto apply = [&](const KvCommand& command) {
    ASSERT_TRUE(store.apply(++index, *encode_command(command)).has_value());
  };
  apply(LeaseGrantRequest{3, 60});
  apply(put_request("a", "1", 3));
  apply(put_request("b", "2"));
  apply(put_request("a", "3", 3));
  DeleteRangeRequest del;
  del.key = "b";
  apply(del);
  apply(put_request("c", "4"));
  apply(CompactionRequest{3});
  return store;
}

TEST(SnapshotCodec, EmptyStoreSnapshotIsPinned) {
  const std::string snapshot = encode_snapshot(KvState{});
  const std::string body(
      "\x02"                              // format 2
      "\x00\x00\x00\x00\x00\x00\x00\x00"  // applied index 0
      "\x01\x00\x00\x00\x00\x00\x00\x00"  // current revision 1
      "\xff\xff\xff\xff\xff\xff\xff\xff"  // compact revision -1
      "\x00\x00\x00\x00"                  // no leases
      "\x00\x00\x00\x00"                  // no keys
      "\x00\x00\x00\x00"                  // no records
      "\x00\x00\x00\x00"                  // no members
      "\x00\x00\x00\x00",                 // no alarms
      45);
  EXPECT_EQ(snapshot, with_checksum(body));
  ASSERT_TRUE(decode_snapshot(snapshot).has_value());
  EXPECT_TRUE(*decode_snapshot(snapshot) == KvState{});
}

// Images written before members had records are still read.
TEST(SnapshotCodec, FormatOneIsStillRead) {
  const std::string body(
      "\x01"                              // format 1
      "\x07\x00\x00\x00\x00\x00\x00\x00"  // applied index 7
      "\x01\x00\x00\x00\x00\x00\x00\x00"  // current revision 1
      "\xff\xff\xff\xff\xff\xff\xff\xff"  // compact revision -1
      "\x00\x00\x00\x00"                  // no leases
      "\x00\x00\x00\x00"                  // no keys
      "\x00\x00\x00\x00",                 // no records
      37);
  const Result<KvState> decoded = decode_snapshot(with_checksum(body));
  ASSERT_TRUE(decoded.has_value()) << decoded.status().to_string();
  EXPECT_EQ(decoded->applied_index, 7U);
  EXPECT_TRUE(decoded->members.empty());
}

TEST(SnapshotCodec, MembersRoundTrip) {
  KvState state;
  state.members[5] = MemberRecord{
      .id = 5, .name = "m5", .peer_urls = {"http://p"}, .client_urls = {"http://c1", "http://c2"}};
  state.members[9] = MemberRecord{.id = 9, .name = "", .peer_urls = {}, .client_urls = {}};
  const Result<KvState> decoded = decode_snapshot(encode_snapshot(state));
  ASSERT_TRUE(decoded.has_value()) << decoded.status().to_string();
  EXPECT_EQ(decoded->members, state.members);
}

TEST(SnapshotCodec, RoundTripsAPopulatedState) {
  MemoryKvStore store = populated_store();
  const std::string snapshot = *store.snapshot();
  Result<KvState> decoded = decode_snapshot(snapshot);
  ASSERT_TRUE(decoded.has_value()) << decoded.status().to_string();
  EXPECT_EQ(encode_snapshot(*decoded), snapshot);
}

TEST(SnapshotCodec, UnknownFormatVersionIsRefused) {
  std::string body = encode_snapshot(KvState{});
  body.resize(body.size() - 8);
  body[0] = 3;
  const Result<KvState> decoded = decode_snapshot(with_checksum(body));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.status().message().find("unknown format version 3"), std::string::npos);
}

TEST(SnapshotCodec, KeyOnAMissingLeaseIsCorruption) {
  MemoryKvStore store = populated_store();
  std::string body = *store.snapshot();
  body.resize(body.size() - 8);
  // Drop the only lease: the lease count sits right after the 25-byte header.
  const std::string without_lease =
      body.substr(0, 25) + std::string("\x00\x00\x00\x00", 4) + body.substr(25 + 4 + 24);
  const Result<KvState> decoded = decode_snapshot(with_checksum(without_lease));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_NE(decoded.status().message().find("lease 3"), std::string::npos);
}

TEST(SnapshotCodecFuzz, ForgedSnapshotsNeverCrash) {
  MemoryKvStore source = populated_store();
  std::string body = *source.snapshot();
  body.resize(body.size() - 8);
  std::mt19937_64 rng(99);
  int restored = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string forged = body;
    const int mutations = 1 + static_cast<int>(rng() % 3);
    for (int m = 0; m < mutations; ++m) {
      switch (rng() % 3) {
        case 0: forged[rng() % forged.size()] ^= static_cast<char>(1 << (rng() % 8)); break;
        case 1: forged.resize(rng() % (forged.size() + 1)); break;
        default: forged[rng() % forged.size()] = static_cast<char>(rng()); break;
      }
      if (forged.empty()) forged = "\x01";
    }
    MemoryKvStore target;
    if (!target.restore(with_checksum(forged)).is_ok()) continue;
    ++restored;
    // A snapshot that passes the checks must leave a store that works.
    EXPECT_TRUE(target.check_consistency().is_ok()) << target.check_consistency().to_string();
    Index index = target.applied_index();
    for (const KvCommand& command :
         {KvCommand{put_request("a", "x")}, KvCommand{put_request("c", "y", 3)},
          KvCommand{LeaseRevokeRequest{3}},
          KvCommand{CompactionRequest{target.current_revision()}}}) {
      EXPECT_TRUE(target.apply(++index, *encode_command(command)).has_value());
    }
    EventQuery query;
    query.key = kAllKeys;
    query.range_end = kAllKeys;
    query.start_revision = 1;
    query.prev_kv = true;
    (void)target.events(query);
    EXPECT_TRUE(target.check_consistency().is_ok()) << target.check_consistency().to_string();
  }
  EXPECT_GT(restored, 0);  // some mutations (of values, say) leave a valid snapshot
}

}  // namespace
}  // namespace dengine::kv::test
