// What only the RocksDB state machine has: its files, recovery from them, the durable index
// learned from background flushes, and refusal of damaged storage.
#if DENGINE_WITH_ROCKSDB

#include "kv/rocksdb_kv_store.h"

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "kv/rocksdb_records.h"
#include "tests/kv/kv_store_factory.h"
#include "tests/kv/kv_test_util.h"

namespace dengine::kv::test {
namespace {

std::unique_ptr<RocksKvStore> open_store(const std::string& dir, RocksKvStoreOptions options = {}) {
  Result<std::unique_ptr<RocksKvStore>> opened = RocksKvStore::open(dir, options);
  EXPECT_TRUE(opened.has_value()) << opened.status().to_string();
  return opened ? std::move(opened).value() : nullptr;
}

void apply_put(RocksKvStore& store, Index index, const std::string& key, const std::string& value) {
  const Result<ApplyResult> applied = store.apply(index, encoded(put_request(key, value)));
  ASSERT_TRUE(applied.has_value()) << applied.status().to_string();
  ASSERT_TRUE(applied->status.is_ok()) << applied->status.to_string();
}

// Writes a raw value into one column family of the store's live database.
void write_raw(const std::string& store_dir, const std::string& family, const std::string& key,
               const std::string& value) {
  std::ifstream active(store_dir + "/ACTIVE");
  std::string name;
  active >> name;
  rocksdb::DBOptions options;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const char* each : {rocksdb::kDefaultColumnFamilyName.c_str(), rocks::kRecordsFamily,
                           rocks::kLeasesFamily, rocks::kMetaFamily}) {
    descriptors.emplace_back(each, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, store_dir + "/" + name, descriptors, &handles, &db).ok());
  size_t chosen = 0;
  for (size_t i = 0; i < descriptors.size(); ++i) {
    if (descriptors[i].name == family) chosen = i;
  }
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[chosen], key, value).ok());
  for (auto* handle : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

TEST(RocksKvStore, ReopenAfterFlushRecoversEverything) {
  const std::string dir = fresh_test_dir();
  std::string image;
  {
    auto store = open_store(dir);
    ASSERT_NE(store, nullptr);
    for (Index i = 1; i <= 50; ++i) apply_put(*store, i, "key" + std::to_string(i % 7), "v");
    ASSERT_TRUE(store->apply(51, encoded(CompactionRequest{20})).has_value());
    ASSERT_TRUE(store->flush().is_ok());
    image = store->logical_image();
  }
  auto reopened = open_store(dir);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->applied_index(), 51U);
  EXPECT_EQ(reopened->durable_applied_index(), 51U);
  EXPECT_EQ(reopened->logical_image(), image);
  EXPECT_TRUE(reopened->check_consistency().is_ok());
}

// dengine-ctl's restore: a new cluster starts from the image without the old one's members.
TEST(RocksKvStore, ForgettingTheClusterDropsMembersAndAlarmsDurablyAndNothingElse) {
  const std::string dir = fresh_test_dir();
  {
    auto store = open_store(dir);
    ASSERT_NE(store, nullptr);
    apply_put(*store, 1, "k", "v");
    ASSERT_TRUE(
        store->apply(2, encoded(MemberPeerUrlsRequest{4, {"http://old:2380"}})).has_value());
    ASSERT_TRUE(store->apply(3, encoded(AlarmChangeRequest{true, Alarm{4, AlarmType::kNoSpace}}))
                    .has_value());
    ASSERT_TRUE(store->flush().is_ok());
    ASSERT_TRUE(store->forget_cluster().is_ok());
    EXPECT_TRUE(store->member_records().empty());
    EXPECT_TRUE(store->alarms().empty());
  }
  auto reopened = open_store(dir);
  ASSERT_NE(reopened, nullptr);
  EXPECT_TRUE(reopened->member_records().empty());
  EXPECT_TRUE(reopened->alarms().empty());
  EXPECT_EQ(reopened->applied_index(), 3U);
  EXPECT_EQ(reopened->current_revision(), 2);
}

TEST(RocksKvStore, TheApproximateSizeGrowsWithTheData) {
  auto store = open_store(fresh_test_dir());
  ASSERT_NE(store, nullptr);
  const uint64_t empty = store->approximate_bytes();
  // 640 KB of values, measured at the 640th apply. Memtables are sized by RocksDB's sampling
  // estimate, which on a small memtable can be a third off (115 KB for 192 KB once, under
  // ASan): the bound asks for half.
  for (Index i = 1; i <= 640; ++i) {
    apply_put(*store, i, "key" + std::to_string(i), std::string(1000, 'x'));
  }
  EXPECT_GE(store->approximate_bytes(), empty + 320'000);
}

TEST(RocksKvStore, BackgroundFlushesMoveTheDurableIndex) {
  const std::string dir = fresh_test_dir();
  RocksKvStoreOptions options;
  options.write_buffer_bytes = 64 << 10;  // a memtable fills after a few hundred puts
  auto store = open_store(dir, options);
  ASSERT_NE(store, nullptr);
  const std::string value(512, 'x');
  Index index = 0;
  // No explicit flush: only RocksDB's own flushes can make anything durable.
  while (index < 5000 && store->durable_applied_index() == 0) {
    ++index;
    apply_put(*store, index, "key" + std::to_string(index % 100), value);
  }
  ASSERT_GT(store->durable_applied_index(), 0U) << "no background flush in " << index << " puts";
  const Index durable = store->durable_applied_index();
  EXPECT_LE(durable, store->applied_index());
  store.reset();  // a crash: the memtable is lost
  auto reopened = open_store(dir, options);
  ASSERT_NE(reopened, nullptr);
  // Everything reported durable survived (a later flush may have carried more).
  EXPECT_GE(reopened->applied_index(), durable);
  EXPECT_TRUE(reopened->check_consistency().is_ok());
}

TEST(RocksKvStore, CorruptRecordIsRefusedAtOpen) {
  const std::string dir = fresh_test_dir();
  {
    auto store = open_store(dir);
    ASSERT_NE(store, nullptr);
    apply_put(*store, 1, "a", "1");
    ASSERT_TRUE(store->flush().is_ok());
  }
  write_raw(dir, rocks::kRecordsFamily, rocks::revision_key(Revision{2, 0}), "\x01\x07garbage");
  const Result<std::unique_ptr<RocksKvStore>> reopened = RocksKvStore::open(dir);
  ASSERT_FALSE(reopened.has_value());
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(reopened.status().message().find("revision 2.0"), std::string::npos)
      << reopened.status().message();
}

TEST(RocksKvStore, RecordWithoutItsKeyHistoryIsRefusedAtOpen) {
  const std::string dir = fresh_test_dir();
  {
    auto store = open_store(dir);
    ASSERT_NE(store, nullptr);
    apply_put(*store, 1, "a", "1");
    ASSERT_TRUE(store->flush().is_ok());
  }
  // A tombstone for a key that was never written.
  MvccRecord tombstone;
  tombstone.tombstone = true;
  tombstone.kv.key = "ghost";
  write_raw(dir, rocks::kRecordsFamily, rocks::revision_key(Revision{2, 1}),
            rocks::encode_record(tombstone));
  const Result<std::unique_ptr<RocksKvStore>> reopened = RocksKvStore::open(dir);
  ASSERT_FALSE(reopened.has_value());
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(reopened.status().message().find("ghost"), std::string::npos)
      << reopened.status().message();
}

TEST(RocksKvStore, UnknownFormatIsRefused) {
  const std::string dir = fresh_test_dir();
  { ASSERT_NE(open_store(dir), nullptr); }
  write_raw(dir, rocks::kMetaFamily, rocks::kMetaFormat, rocks::encode_u64(99));
  const Result<std::unique_ptr<RocksKvStore>> reopened = RocksKvStore::open(dir);
  ASSERT_FALSE(reopened.has_value());
  EXPECT_NE(reopened.status().message().find("unknown store format 99"), std::string::npos);
}

TEST(RocksKvStore, ActiveNamingAMissingDatabaseIsCorruption) {
  const std::string dir = fresh_test_dir();
  { ASSERT_NE(open_store(dir), nullptr); }
  std::ofstream(dir + "/ACTIVE", std::ios::trunc) << "db-9";
  const Result<std::unique_ptr<RocksKvStore>> reopened = RocksKvStore::open(dir);
  ASSERT_FALSE(reopened.has_value());
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption);
  EXPECT_NE(reopened.status().message().find("db-9"), std::string::npos);
}

TEST(RocksKvStore, DamagedActiveFileIsCorruption) {
  for (const char* content : {"db-", "db-x1", "db-99999999999999999999999", "garbage"}) {
    const std::string dir = fresh_test_dir();
    { ASSERT_NE(open_store(dir), nullptr); }
    std::ofstream(dir + "/ACTIVE", std::ios::trunc) << content;
    const Result<std::unique_ptr<RocksKvStore>> reopened = RocksKvStore::open(dir);
    ASSERT_FALSE(reopened.has_value()) << content;
    EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption) << content;
    EXPECT_NE(reopened.status().message().find("names no database"), std::string::npos);
  }
}

TEST(RocksKvStore, LeftoverOfAnInterruptedInstallIsRemovedAtOpen) {
  const std::string dir = fresh_test_dir();
  {
    auto store = open_store(dir);
    ASSERT_NE(store, nullptr);
    apply_put(*store, 1, "a", "1");
    ASSERT_TRUE(store->flush().is_ok());
    // A crash after the image was moved in but before ACTIVE switched to it.
    ASSERT_TRUE(store->write_snapshot(dir + "/db-2").has_value());
  }
  auto reopened = open_store(dir);
  ASSERT_NE(reopened, nullptr);
  EXPECT_FALSE(std::filesystem::exists(dir + "/db-2"));
  EXPECT_EQ(reopened->applied_index(), 1U);
}

TEST(RocksKvStore, InstallSwitchesDatabasesAndRemovesTheOldOne) {
  const std::string source_dir = fresh_test_dir();
  const std::string target_dir = fresh_test_dir();
  auto source = open_store(source_dir);
  auto target = open_store(target_dir);
  ASSERT_NE(source, nullptr);
  ASSERT_NE(target, nullptr);
  for (Index i = 1; i <= 20; ++i) apply_put(*source, i, "k" + std::to_string(i), "v");
  const std::string image = fresh_test_dir() + "/image";
  ASSERT_TRUE(source->write_snapshot(image).has_value());
  ASSERT_TRUE(target->install_snapshot(image).is_ok());
  EXPECT_FALSE(std::filesystem::exists(target_dir + "/db-1"));
  EXPECT_TRUE(std::filesystem::exists(target_dir + "/db-2"));
  target.reset();
  auto reopened = open_store(target_dir);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->logical_image(), source->logical_image());
}

}  // namespace
}  // namespace dengine::kv::test

#endif  // DENGINE_WITH_ROCKSDB
