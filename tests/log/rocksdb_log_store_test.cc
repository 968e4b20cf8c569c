// The RocksDB log store beyond the shared behaviour suite (log_store_test.cc): its layout,
// damage found on recovery, compaction and reset across a reopen, fatal errors and group commit.
#include "log/rocksdb_log_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "tests/log/log_test_util.h"

namespace dengine::log {
namespace {

using testing::make_entries;
using testing::make_entry;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// RocksDB's file layer, with WAL writes and WAL syncs that fail on demand and a hook run
// inside every WAL sync.
class FaultyWalFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  FaultyWalFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultyWalFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override {
    rocksdb::IOStatus st = target()->NewWritableFile(name, options, file, dbg);
    if (st.ok() && name.ends_with(".log"))
      *file = std::make_unique<WalFile>(std::move(*file), *this);
    return st;
  }

  std::atomic<bool> fail_writes{false};
  std::atomic<bool> fail_syncs{false};
  std::atomic<int> wal_syncs{0};
  std::function<void()> sync_hook;  // set while no sync runs

 private:
  class WalFile final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    WalFile(std::unique_ptr<rocksdb::FSWritableFile> file, FaultyWalFileSystem& fs)
        : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}

    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_.fail_writes) return rocksdb::IOStatus::IOError("injected WAL write error");
      return target()->Append(data, options, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                             const rocksdb::DataVerificationInfo& info,
                             rocksdb::IODebugContext* dbg) override {
      if (fs_.fail_writes) return rocksdb::IOStatus::IOError("injected WAL write error");
      return target()->Append(data, options, info, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
      return synced([&] { return target()->Sync(options, dbg); });
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* dbg) override {
      return synced([&] { return target()->Fsync(options, dbg); });
    }

   private:
    rocksdb::IOStatus synced(const std::function<rocksdb::IOStatus()>& sync) {
      ++fs_.wal_syncs;
      if (fs_.sync_hook) fs_.sync_hook();
      if (fs_.fail_syncs) return rocksdb::IOStatus::IOError("injected WAL sync error");
      return sync();
    }
    FaultyWalFileSystem& fs_;
  };
};

class RocksDbLog : public ::testing::Test {
 protected:
  Result<RecoveredLog> open(rocksdb::Env* env = nullptr) {
    Result<RocksDbLogStore::Opened> opened = RocksDbLogStore::open(data_dir(), {}, env);
    if (!opened) return opened.status();
    store_ = std::move(opened->store);
    return std::move(opened->recovered);
  }
  Result<RecoveredLog> reopen(rocksdb::Env* env = nullptr) {
    store_.reset();
    return open(env);
  }

  void append(const std::vector<Entry>& entries, std::optional<HardState> hard_state = {}) {
    const Status st = store_->append(entries, hard_state);
    ASSERT_TRUE(st) << st.to_string();
    model_.append(entries, hard_state);
  }
  void append_synced(Index first, Index last, Term term) {
    append(make_entries(first, last, term, 100),
           HardState{.term = term, .vote = 1, .commit = first - 1});
    ASSERT_TRUE(store_->sync());
  }

  // Runs `edit` on the store's database opened directly, the store being closed.
  void edit_db(const std::function<void(rocksdb::DB&, rocksdb::ColumnFamilyHandle* entries,
                                        rocksdb::ColumnFamilyHandle* meta)>& edit) {
    store_.reset();
    const std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, {}},
        {std::string(kEntriesColumnFamily), {}},
        {std::string(kMetaColumnFamily), {}},
    };
    rocksdb::DB* db = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    const rocksdb::Status st = rocksdb::DB::Open({}, db_dir(), families, &handles, &db);
    ASSERT_TRUE(st.ok()) << st.ToString();
    edit(*db, handles[1], handles[2]);
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
      ASSERT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
    }
    ASSERT_TRUE(db->Close().ok());
    delete db;
  }
  std::string get_entry(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries, Index index) {
    std::string value;
    EXPECT_TRUE(db.Get({}, entries, rocksdb_entry_key(index), &value).ok()) << index;
    return value;
  }
  size_t count_entries(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries) {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator({}, entries));
    size_t count = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
    return count;
  }

  // Reopening fails with kCorruption, with a message naming `index` and the directory.
  void expect_corrupt_on_open(const std::string& part) {
    const Result<RecoveredLog> recovered = open();
    ASSERT_FALSE(recovered.has_value());
    const Status& st = recovered.status();
    EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.to_string();
    EXPECT_TRUE(contains(st.message(), "corrupt")) << st.message();
    EXPECT_TRUE(contains(st.message(), part)) << st.message();
    EXPECT_TRUE(contains(st.message(), db_dir())) << st.message();
  }

  [[nodiscard]] std::string data_dir() const { return dir_.path() + "/data"; }
  [[nodiscard]] std::string db_dir() const { return data_dir() + "/raftlog"; }

  testing::TempDir dir_;
  std::unique_ptr<RocksDbLogStore> store_;
  testing::LogModel model_;
};

// ---------------------------------------------------------------------------------------
// Layout and options

TEST_F(RocksDbLog, KeepsItsDatabaseInRaftlogWithEntriesAndMetaColumnFamilies) {
  ASSERT_TRUE(open().has_value());
  EXPECT_EQ(store_->db_dir(), db_dir());
  store_.reset();
  std::vector<std::string> families;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies({}, db_dir(), &families).ok());
  std::sort(families.begin(), families.end());
  EXPECT_EQ(families, (std::vector<std::string>{"default", "entries", "meta"}));
}

TEST_F(RocksDbLog, OpenRefusesAWriteBufferOutsideItsBounds) {
  const auto opened =
      RocksDbLogStore::open(data_dir(), RocksDbLogOptions{.write_buffer_bytes = 1024});
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(contains(opened.status().message(), "write_buffer_bytes"));
}

TEST_F(RocksDbLog, SecondOpenOfTheSameDirectoryIsRefused) {
  ASSERT_TRUE(open().has_value());
  const auto second = open_rocksdb_log_store(data_dir());
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.status().code(), StatusCode::kIoError) << second.status().to_string();
  EXPECT_TRUE(contains(second.status().message(), db_dir())) << second.status().message();
}

// ---------------------------------------------------------------------------------------
// Damage found on recovery

TEST_F(RocksDbLog, GarbageEntryValueIsCorruptionNamingTheIndex) {
  ASSERT_TRUE(open().has_value());
  append_synced(1, 10, 1);
  edit_db([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries, rocksdb::ColumnFamilyHandle*) {
    ASSERT_TRUE(db.Put({}, entries, rocksdb_entry_key(5), "garbage").ok());
  });
  expect_corrupt_on_open("entry 5");
}

TEST_F(RocksDbLog, FlippedByteInAnEntryFailsItsChecksum) {
  ASSERT_TRUE(open().has_value());
  append_synced(1, 10, 1);
  edit_db([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries, rocksdb::ColumnFamilyHandle*) {
    std::string value = get_entry(db, entries, 7);
    value[20] = static_cast<char>(value[20] ^ 0x10);
    ASSERT_TRUE(db.Put({}, entries, rocksdb_entry_key(7), value).ok());
  });
  expect_corrupt_on_open("entry 7");
  EXPECT_TRUE(contains(open().status().message(), "checksum mismatch"));
}

TEST_F(RocksDbLog, EntryCopiedUnderAnotherIndexFailsItsChecksum) {
  ASSERT_TRUE(open().has_value());
  append_synced(1, 10, 1);
  edit_db([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries, rocksdb::ColumnFamilyHandle*) {
    ASSERT_TRUE(db.Put({}, entries, rocksdb_entry_key(4), get_entry(db, entries, 3)).ok());
  });
  expect_corrupt_on_open("entry 4");
}

TEST_F(RocksDbLog, MissingEntryIsCorruption) {
  ASSERT_TRUE(open().has_value());
  append_synced(1, 10, 1);
  edit_db([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries, rocksdb::ColumnFamilyHandle*) {
    ASSERT_TRUE(db.Delete({}, entries, rocksdb_entry_key(6)).ok());
  });
  expect_corrupt_on_open("entry 6 is missing");
}

TEST_F(RocksDbLog, EntryBeforeTheLogStartIsCorruption) {
  ASSERT_TRUE(open().has_value());
  append_synced(1, 10, 1);
  ASSERT_TRUE(store_->compact(5));
  edit_db([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries, rocksdb::ColumnFamilyHandle*) {
    ASSERT_TRUE(db.Put({}, entries, rocksdb_entry_key(2), "stale").ok());
  });
  expect_corrupt_on_open("entry 2");
}

TEST_F(RocksDbLog, CorruptHardStateIsReported) {
  ASSERT_TRUE(open().has_value());
  append_synced(1, 3, 1);
  edit_db([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle*, rocksdb::ColumnFamilyHandle* meta) {
    ASSERT_TRUE(db.Put({}, meta, kHardStateKey, std::string(29, '\x01')).ok());
  });
  expect_corrupt_on_open("hard state");
}

// ---------------------------------------------------------------------------------------
// Compaction and reset across a reopen

TEST_F(RocksDbLog, CompactionSurvivesReopenAndDeletesTheEntries) {
  ASSERT_TRUE(open().has_value());
  append(make_entries(1, 40, 1, 100), HardState{.term = 1, .vote = 1, .commit = 30});
  append(make_entries(41, 50, 2, 100));
  ASSERT_TRUE(store_->compact(30));
  EXPECT_EQ(store_->first_index(), 31u);
  ASSERT_TRUE(store_->sync());
  edit_db([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries, rocksdb::ColumnFamilyHandle*) {
    EXPECT_EQ(count_entries(db, entries), 20u);
  });
  Result<RecoveredLog> recovered = open();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  EXPECT_EQ(recovered->first_index, 31u);
  EXPECT_EQ(recovered->prev_term, 1u);
  EXPECT_EQ(testing::mismatch(model_, *recovered), "");
  // Compacting past the end drops everything, and appends go on after it.
  ASSERT_TRUE(store_->compact(1000));
  EXPECT_EQ(store_->first_index(), 51u);
  EXPECT_EQ(*store_->term(50), 2u);
  append(make_entries(51, 52, 3, 100));
  ASSERT_TRUE(store_->sync());
  recovered = reopen();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  EXPECT_EQ(recovered->first_index, 51u);
  EXPECT_EQ(testing::mismatch(model_, *recovered), "");
}

TEST_F(RocksDbLog, ResetSurvivesReopenAndDeletesEveryEntry) {
  ASSERT_TRUE(open().has_value());
  append_synced(1, 20, 1);
  ASSERT_TRUE(store_->reset(100, 5));
  model_.reset(100, 5);
  ASSERT_TRUE(store_->sync());
  edit_db([&](rocksdb::DB& db, rocksdb::ColumnFamilyHandle* entries, rocksdb::ColumnFamilyHandle*) {
    EXPECT_EQ(count_entries(db, entries), 0u);
  });
  Result<RecoveredLog> recovered = open();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  EXPECT_EQ(recovered->first_index, 101u);
  EXPECT_EQ(recovered->prev_term, 5u);
  EXPECT_TRUE(recovered->entries.empty());
  EXPECT_EQ(testing::mismatch(model_, *recovered), "");
  append(make_entries(101, 105, 5, 100), HardState{.term = 5, .vote = 0, .commit = 103});
  ASSERT_TRUE(store_->sync());
  recovered = reopen();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  EXPECT_EQ(testing::mismatch(model_, *recovered), "");
}

// ---------------------------------------------------------------------------------------
// Fatal errors

class RocksDbLogFailure : public RocksDbLog {
 protected:
  void SetUp() override {
    ASSERT_TRUE(open(env_.get()).has_value());
    append_synced(1, 5, 1);
  }
  // The store goes before the file layer it writes through.
  void TearDown() override { store_.reset(); }

  // Every call fails with kIoError naming `cause`, and none syncs again.
  void expect_stopped(const std::string& cause) {
    const uint64_t syncs = store_->stats().wal_syncs;
    const std::vector<Status> results = {
        store_->append(std::vector<Entry>{make_entry(9, 1)}, {}),
        store_->append({}, HardState{.term = 2, .vote = 0, .commit = 2}),
        store_->sync(),
        store_->entries(1, 3, 1000).status(),
        store_->term(2).status(),
        store_->compact(3),
        store_->reset(10, 2),
    };
    for (const Status& st : results) {
      EXPECT_EQ(st.code(), StatusCode::kIoError) << st.to_string();
      EXPECT_TRUE(contains(st.message(), cause)) << st.message();
      EXPECT_TRUE(contains(st.message(), "the log store has stopped")) << st.message();
    }
    EXPECT_EQ(store_->stats().wal_syncs, syncs);
  }

  // A restart recovers what was synced, and perhaps more of what was appended.
  void expect_reopens_with_a_prefix() {
    fs_->fail_writes = false;
    fs_->fail_syncs = false;
    Result<RecoveredLog> recovered = reopen();
    ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
    EXPECT_GE(recovered->last_index(), 5u);
    EXPECT_LE(recovered->last_index(), model_.last_index());
    for (const Entry& entry : recovered->entries) {
      EXPECT_EQ(entry, model_.entries[entry.index - 1]) << entry.index;
    }
  }

  std::shared_ptr<FaultyWalFileSystem> fs_ = std::make_shared<FaultyWalFileSystem>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(fs_);
};

TEST_F(RocksDbLogFailure, WalWriteErrorIsFatal) {
  fs_->fail_writes = true;
  const Status st = store_->append(make_entries(6, 8, 1, 100), {});
  ASSERT_EQ(st.code(), StatusCode::kIoError) << st.to_string();
  EXPECT_TRUE(contains(st.message(), "writing entries [6, 8]")) << st.message();
  EXPECT_TRUE(contains(st.message(), "injected WAL write error")) << st.message();
  model_.append(make_entries(6, 8, 1, 100), {});
  fs_->fail_writes = false;  // the store must not try again anyway
  expect_stopped("injected WAL write error");
  expect_reopens_with_a_prefix();
}

TEST_F(RocksDbLogFailure, WalSyncErrorIsFatalAndNeverRetried) {
  append(make_entries(6, 8, 1, 100));
  fs_->fail_syncs = true;
  const Status st = store_->sync();
  ASSERT_EQ(st.code(), StatusCode::kIoError) << st.to_string();
  EXPECT_TRUE(contains(st.message(), "syncing the WAL")) << st.message();
  EXPECT_TRUE(contains(st.message(), "injected WAL sync error")) << st.message();
  fs_->fail_syncs = false;  // a retry would succeed now, and must not happen
  expect_stopped("injected WAL sync error");
  expect_reopens_with_a_prefix();
}

TEST_F(RocksDbLogFailure, RefusedArgumentsAreNotFatal) {
  EXPECT_EQ(store_->append(make_entries(9, 9, 1), {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->reset(0, 1).code(), StatusCode::kInvalidArgument);
  append(make_entries(6, 6, 1));
  EXPECT_TRUE(store_->sync());
}

// ---------------------------------------------------------------------------------------
// Group commit

TEST_F(RocksDbLogFailure, SyncsWaitingOnARunningSyncShareTheNextWalSync) {
  // Hold the first WAL sync in flight until seven more appenders wait behind it.
  std::mutex mu;
  std::condition_variable cv;
  int syncs_entered = 0;
  bool release = false;
  fs_->sync_hook = [&] {
    std::unique_lock lock(mu);
    ++syncs_entered;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  };
  const RocksDbLogStats before = store_->stats();

  ASSERT_TRUE(store_->append(std::vector<Entry>{make_entry(6, 1)}, {}));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  threads.emplace_back([&] { ok += store_->sync().is_ok() ? 1 : 0; });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return syncs_entered == 1; });
  }
  for (Index i = 7; i <= 13; ++i) {
    ASSERT_TRUE(store_->append(std::vector<Entry>{make_entry(i, 1)}, {}));
    threads.emplace_back([&] { ok += store_->sync().is_ok() ? 1 : 0; });
  }
  // No sleeping: wait until all eight sync() calls are inside the store.
  while (store_->stats().sync_calls < before.sync_calls + 8) std::this_thread::yield();
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  for (std::thread& thread : threads) thread.join();

  EXPECT_EQ(ok.load(), 8);
  // One WAL sync for the first appender, one shared by the seven that waited.
  EXPECT_EQ(store_->stats().wal_syncs - before.wal_syncs, 2u);
  EXPECT_EQ(syncs_entered, 2);
  store_.reset();  // before the hook's variables go
  fs_->sync_hook = nullptr;
}

TEST_F(RocksDbLog, ConcurrentAppendersAndSyncersLoseNothing) {
  ASSERT_TRUE(open().has_value());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::mutex index_mu;  // assigns indexes in append order, as a Raft leader would
  Index next = 1;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        {
          std::lock_guard lock(index_mu);
          const Entry entry = make_entry(next, 1, static_cast<size_t>(t * 10 + i % 50));
          if (!store_->append(std::vector<Entry>{entry}, HardState{.term = 1, .vote = 1})) {
            ++failures;
          }
          ++next;
        }
        if (!store_->sync()) ++failures;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ASSERT_EQ(failures.load(), 0);
  const RocksDbLogStats stats = store_->stats();
  EXPECT_EQ(stats.sync_calls, uint64_t{kThreads * kPerThread});
  EXPECT_LE(stats.wal_syncs, stats.sync_calls);
  Result<RecoveredLog> recovered = reopen();
  ASSERT_TRUE(recovered.has_value()) << recovered.status().to_string();
  ASSERT_EQ(recovered->last_index(), Index{kThreads * kPerThread});
  for (const Entry& entry : recovered->entries) {
    ASSERT_EQ(entry.data, testing::payload(entry.index, 1, entry.data.size())) << entry.index;
  }
}

}  // namespace
}  // namespace dengine::log
