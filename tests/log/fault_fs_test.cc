// The fault-injecting file layer itself: what survives a power cut, and injected errors.
#include <gtest/gtest.h>

#include "log/fault_injecting_file_system.h"
#include "log/posix_file_system.h"
#include "tests/log/log_test_util.h"

namespace dengine::log {
namespace {

constexpr PowerCutOptions kDropAll{.keep_unsynced_prefix = false,
                                   .random_pages = false,
                                   .tear_page = false,
                                   .garbage = false,
                                   .keep_dir_ops_prefix = false};

class FaultFs : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fs_.create_dir("/d").has_value()); }

  std::unique_ptr<File> create_synced(const std::string& path, std::string_view data) {
    auto file = fs_.create(path);
    EXPECT_TRUE(file.has_value());
    EXPECT_TRUE((*file)->append(data));
    EXPECT_TRUE((*file)->sync());
    EXPECT_TRUE(fs_.sync_dir("/d"));
    return std::move(*file);
  }

  FaultInjectingFileSystem fs_{1};
};

TEST_F(FaultFs, PowerCutDropsUnsyncedBytesAndKeepsSyncedOnes) {
  auto file = create_synced("/d/a", "durable");
  ASSERT_TRUE(file->append(" lost"));
  EXPECT_EQ(*fs_.read_file("/d/a"), "durable lost");
  fs_.power_cut(kDropAll);
  EXPECT_EQ(*fs_.read_file("/d/a"), "durable");
}

TEST_F(FaultFs, HandlesFromBeforeAPowerCutFail) {
  auto file = create_synced("/d/a", "x");
  fs_.power_cut(kDropAll);
  EXPECT_FALSE(file->append("y"));
  EXPECT_FALSE(file->sync());
}

TEST_F(FaultFs, UnsyncedCreateRenameAndRemoveAreForgotten) {
  create_synced("/d/kept", "k");
  auto created = fs_.create("/d/new");
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE((*created)->append("n"));
  ASSERT_TRUE((*created)->sync());  // the data is durable, the directory entry is not
  ASSERT_TRUE(fs_.rename("/d/kept", "/d/renamed"));
  fs_.power_cut(kDropAll);
  EXPECT_TRUE(fs_.exists("/d/kept"));
  EXPECT_FALSE(fs_.exists("/d/renamed"));
  EXPECT_FALSE(fs_.exists("/d/new"));

  ASSERT_TRUE(fs_.remove("/d/kept"));
  fs_.power_cut(kDropAll);
  EXPECT_TRUE(fs_.exists("/d/kept"));
}

TEST_F(FaultFs, SyncDirMakesDirectoryOperationsDurable) {
  auto created = fs_.create("/d/new");
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE((*created)->append("n"));
  ASSERT_TRUE((*created)->sync());
  ASSERT_TRUE(fs_.rename("/d/new", "/d/final"));
  ASSERT_TRUE(fs_.sync_dir("/d"));
  fs_.power_cut(kDropAll);
  EXPECT_FALSE(fs_.exists("/d/new"));
  EXPECT_EQ(*fs_.read_file("/d/final"), "n");
}

TEST(FaultFsRename, RenameOverAnExistingFileIsAtomic) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    FaultInjectingFileSystem fs(seed);
    ASSERT_TRUE(fs.create_dir("/d").has_value());
    auto a = fs.create("/d/target");
    ASSERT_TRUE((*a)->append("old") && (*a)->sync() && fs.sync_dir("/d"));
    auto b = fs.create("/d/temp");
    ASSERT_TRUE((*b)->append("new") && (*b)->sync() && fs.rename("/d/temp", "/d/target"));
    fs.power_cut();  // keeps a random prefix of the directory operations
    const std::string target = *fs.read_file("/d/target");
    EXPECT_TRUE(target == "old" || target == "new") << target;
  }
}

TEST_F(FaultFs, TornPageKeepsOnlyAPrefixOfTheUnsyncedPage) {
  const std::string synced(100, 's');
  const std::string unsynced(8000, 'u');
  int torn = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    FaultInjectingFileSystem fs(seed);
    ASSERT_TRUE(fs.create_dir("/d").has_value());
    auto file = fs.create("/d/a");
    ASSERT_TRUE((*file)->append(synced) && (*file)->sync() && fs.sync_dir("/d"));
    ASSERT_TRUE((*file)->append(unsynced));
    fs.power_cut(PowerCutOptions{.keep_unsynced_prefix = false, .garbage = false});
    const std::string after = *fs.read_file("/d/a");
    ASSERT_EQ(after.substr(0, 100), synced) << seed;
    ASSERT_LE(after.size(), FaultInjectingFileSystem::kPageBytes) << seed;  // first page only
    for (size_t i = 100; i < after.size(); ++i) ASSERT_EQ(after[i], 'u') << seed;
    if (after.size() > 100) ++torn;
  }
  EXPECT_GT(torn, 50);
}

TEST_F(FaultFs, InjectedSyncFailureMakesNothingDurable) {
  auto file = create_synced("/d/a", "a");
  ASSERT_TRUE(file->append("b"));
  fs_.fail_nth_sync(1);
  const Status st = file->sync();
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("Input/output error"), std::string::npos) << st.message();
  fs_.power_cut(kDropAll);
  EXPECT_EQ(*fs_.read_file("/d/a"), "a");
}

TEST_F(FaultFs, WriteBudgetWritesAPrefixThenFails) {
  auto file = create_synced("/d/a", "");
  fs_.fail_writes_after_bytes(3);
  EXPECT_FALSE(file->append("12345"));
  EXPECT_EQ(*fs_.read_file("/d/a"), "123");
  EXPECT_FALSE(file->append("6"));
}

TEST_F(FaultFs, CapacityGivesEnospc) {
  auto file = create_synced("/d/a", "");
  fs_.set_capacity_bytes(10);
  const Status st = file->preallocate(11);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("No space left on device"), std::string::npos);
  EXPECT_TRUE(file->preallocate(10));
  EXPECT_TRUE(file->append("0123456789"));  // inside the preallocated space
  EXPECT_FALSE(file->append("x"));
}

TEST_F(FaultFs, CrashAfterOpsFailsEveryLaterMutation) {
  fs_.crash_after_ops(2);
  auto file = fs_.create("/d/a");  // 1
  ASSERT_TRUE(file.has_value());
  EXPECT_TRUE((*file)->append("x"));  // 2
  EXPECT_FALSE((*file)->sync());
  EXPECT_FALSE(fs_.sync_dir("/d"));
}

TEST_F(FaultFs, ListDirNamesFilesAndSubdirectories) {
  create_synced("/d/b", "");
  ASSERT_TRUE(fs_.create_dir("/d/a").has_value());
  ASSERT_TRUE(fs_.create_dir("/d/a/deeper").has_value());
  EXPECT_EQ(*fs_.list_dir("/d"), (std::vector<std::string>{"a", "b"}));
}

TEST_F(FaultFs, RenameDirMovesItsFilesAndIsForgottenWithoutSyncOfTheParent) {
  ASSERT_TRUE(fs_.create_dir("/d/tmp").has_value());
  auto file = fs_.create("/d/tmp/f");
  ASSERT_TRUE((*file)->append("f") && (*file)->sync() && fs_.sync_dir("/d/tmp"));
  ASSERT_TRUE(fs_.rename_dir("/d/tmp", "/d/final"));
  EXPECT_TRUE(fs_.dir_exists("/d/final"));
  EXPECT_FALSE(fs_.dir_exists("/d/tmp"));
  EXPECT_EQ(*fs_.read_file("/d/final/f"), "f");
  fs_.power_cut(kDropAll);
  EXPECT_FALSE(fs_.dir_exists("/d/final"));
  EXPECT_EQ(*fs_.read_file("/d/tmp/f"), "f");
}

TEST_F(FaultFs, RenameDirIsDurableOnceTheParentIsSynced) {
  ASSERT_TRUE(fs_.create_dir("/d/tmp").has_value());
  auto file = fs_.create("/d/tmp/f");
  ASSERT_TRUE((*file)->append("f") && (*file)->sync() && fs_.sync_dir("/d/tmp"));
  ASSERT_TRUE(fs_.rename_dir("/d/tmp", "/d/final"));
  ASSERT_TRUE(fs_.sync_dir("/d"));
  fs_.power_cut(kDropAll);
  EXPECT_FALSE(fs_.dir_exists("/d/tmp"));
  EXPECT_EQ(*fs_.read_file("/d/final/f"), "f");
}

// The directory keeps its identity: syncing it under its new name makes the entries created
// under its old name durable, wherever the power cut leaves the directory.
TEST_F(FaultFs, SyncDirUnderANewNameMakesEntriesMadeUnderTheOldNameDurable) {
  ASSERT_TRUE(fs_.create_dir("/d/tmp").has_value());
  auto file = fs_.create("/d/tmp/f");
  ASSERT_TRUE((*file)->append("f") && (*file)->sync());
  ASSERT_TRUE(fs_.rename_dir("/d/tmp", "/d/final"));
  ASSERT_TRUE(fs_.sync_dir("/d/final"));  // the rename itself is not durable
  fs_.power_cut(kDropAll);
  EXPECT_EQ(*fs_.read_file("/d/tmp/f"), "f");
  EXPECT_FALSE(fs_.dir_exists("/d/final"));
}

TEST_F(FaultFs, UnsyncedEntriesOfARenamedDirectoryAreLostWithIt) {
  ASSERT_TRUE(fs_.create_dir("/d/tmp").has_value());
  auto file = fs_.create("/d/tmp/f");
  ASSERT_TRUE((*file)->append("f") && (*file)->sync());  // /d/tmp is never synced
  ASSERT_TRUE(fs_.rename_dir("/d/tmp", "/d/final"));
  ASSERT_TRUE(fs_.sync_dir("/d"));
  fs_.power_cut(kDropAll);
  EXPECT_TRUE(fs_.dir_exists("/d/final"));
  EXPECT_TRUE(fs_.list_dir("/d/final")->empty());
}

TEST_F(FaultFs, RenameDirNeverReplacesAnExistingEntry) {
  ASSERT_TRUE(fs_.create_dir("/d/a").has_value());
  ASSERT_TRUE(fs_.create_dir("/d/b").has_value());
  create_synced("/d/file", "x");
  const Status onto_dir = fs_.rename_dir("/d/a", "/d/b");
  EXPECT_FALSE(onto_dir);
  EXPECT_NE(onto_dir.message().find("File exists"), std::string::npos) << onto_dir.message();
  EXPECT_FALSE(fs_.rename_dir("/d/a", "/d/file"));
  EXPECT_FALSE(fs_.rename_dir("/d/missing", "/d/c"));
  EXPECT_FALSE(fs_.rename_dir("/d/file", "/d/c"));  // not a directory
  EXPECT_TRUE(fs_.dir_exists("/d/a"));
}

TEST_F(FaultFs, RemoveDirNeedsAnEmptyDirectoryAndIsForgottenWithoutSync) {
  ASSERT_TRUE(fs_.create_dir("/d/sub").has_value());
  auto file = fs_.create("/d/sub/f");
  ASSERT_TRUE((*file)->sync() && fs_.sync_dir("/d/sub"));
  const Status not_empty = fs_.remove_dir("/d/sub");
  EXPECT_FALSE(not_empty);
  EXPECT_NE(not_empty.message().find("not empty"), std::string::npos) << not_empty.message();
  ASSERT_TRUE(fs_.remove("/d/sub/f"));
  ASSERT_TRUE(fs_.remove_dir("/d/sub"));
  EXPECT_FALSE(fs_.dir_exists("/d/sub"));
  EXPECT_FALSE(fs_.remove_dir("/d/sub"));
  fs_.power_cut(kDropAll);
  EXPECT_TRUE(fs_.dir_exists("/d/sub"));
  EXPECT_TRUE(fs_.exists("/d/sub/f"));
}

TEST_F(FaultFs, RemoveDirIsDurableOnceTheParentIsSynced) {
  ASSERT_TRUE(fs_.create_dir("/d/sub").has_value());
  auto file = fs_.create("/d/sub/f");
  ASSERT_TRUE((*file)->sync() && fs_.sync_dir("/d/sub"));
  ASSERT_TRUE(fs_.remove("/d/sub/f"));  // /d/sub is not synced: rmdir implies the unlink
  ASSERT_TRUE(fs_.remove_dir("/d/sub"));
  ASSERT_TRUE(fs_.sync_dir("/d"));
  fs_.power_cut(kDropAll);
  EXPECT_FALSE(fs_.dir_exists("/d/sub"));
  EXPECT_FALSE(fs_.exists("/d/sub/f"));
}

TEST(PosixFs, RenameDirAndRemoveDir) {
  testing::TempDir tmp;
  PosixFileSystem fs;
  const std::string a = join_path(tmp.path(), "a");
  const std::string b = join_path(tmp.path(), "b");
  ASSERT_TRUE(fs.create_dir(a).has_value());
  ASSERT_TRUE(fs.create_dir(b).has_value());
  auto file = fs.create(join_path(a, "f"));
  ASSERT_TRUE(file.has_value());
  ASSERT_TRUE((*file)->append("f"));
  file->reset();
  EXPECT_FALSE(fs.rename_dir(a, b));  // never replaces, even an empty directory
  ASSERT_TRUE(fs.remove_dir(b));
  ASSERT_TRUE(fs.rename_dir(a, b));
  ASSERT_TRUE(fs.sync_dir(tmp.path()));
  EXPECT_EQ(*fs.read_file(join_path(b, "f")), "f");
  EXPECT_EQ(*fs.list_dir(tmp.path()), (std::vector<std::string>{"b"}));
  const Status not_empty = fs.remove_dir(b);
  EXPECT_FALSE(not_empty);
  EXPECT_NE(not_empty.message().find("rmdir"), std::string::npos) << not_empty.message();
  ASSERT_TRUE(fs.remove(join_path(b, "f")));
  ASSERT_TRUE(fs.remove_dir(b));
  EXPECT_TRUE(fs.list_dir(tmp.path())->empty());
  EXPECT_FALSE(fs.rename_dir(join_path(tmp.path(), "missing"), a));
}

}  // namespace
}  // namespace dengine::log
