// dengine-ctl's snapshot status and restore on a real state machine's image: a restored data dir
// is one an engine starts on, alone or as one of several members restored from the same file,
// holding every key at its revision; a damaged file or a used data dir leaves nothing behind.

#include "ctl/snapshot_restore.h"

#include <chrono>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cluster/member_identity.h"
#include "ctl/snapshot_status.h"
#include "dengine/embedded_engine.h"
#include "dengine/in_process_network.h"
#include "dengine/member_config.h"
#include "kv/command_codec.h"
#include "kv/rocksdb_kv_store.h"
#include "tests/ctl/ctl_test_util.h"
#include "tests/support/scratch_dir.h"
#include "tools/snapshot_file_writer.h"

namespace dengine::test {
namespace {

constexpr int kKeys = 50;
constexpr Term kImageTerm = 4;

std::string key_of(int i) {
  return "key/" + std::to_string(1000 + i);
}

class SnapshotRestore : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<kv::RocksKvStore>> store = kv::RocksKvStore::open(dir_ + "/source");
    ASSERT_TRUE(store) << store.status().message();
    for (int i = 0; i < kKeys; ++i) {
      Result<std::string> put = kv::encode_command(PutRequest{.key = key_of(i),
                                                              .value = "value " + std::to_string(i),
                                                              .lease = kNoLease,
                                                              .prev_kv = false,
                                                              .ignore_value = false,
                                                              .ignore_lease = false});
      ASSERT_TRUE(put);
      ASSERT_TRUE((*store)->apply(static_cast<Index>(i + 1), *put));
    }
    (*store)->record_applied(kKeys + 1);  // an entry without a command, as a leader's no-op
    revision_ = (*store)->current_revision();
    Result<Index> applied = (*store)->write_snapshot(dir_ + "/image");
    ASSERT_TRUE(applied) << applied.status().message();
    const tools::SnapshotDescription description{
        .image_kind = tools::ImageKind::kRocksDbCheckpoint,
        .member_id = 7,
        .cluster_id = 9,
        .taken_unix_ms = 1'700'000'000'000,
        .image =
            SnapshotMeta{.index = *applied,
                         .term = kImageTerm,
                         .conf = ConfState{.voters = {7}, .voters_outgoing = {}, .learners = {}}}};
    ASSERT_TRUE(tools::write_snapshot_file(dir_ + "/image", description, file_));
  }

  // etcdctl's restore flags for one member of `cluster`, which lists it at `peer_url`.
  static ctl::RestoreOptions member(const std::string& data_dir, const std::string& name,
                                    const std::string& peer_url, const std::string& cluster) {
    ctl::RestoreOptions options;
    options.data_dir = data_dir;
    options.name = name;
    options.initial_cluster = cluster;
    options.initial_advertise_peer_urls = peer_url;
    return options;
  }
  static ctl::RestoreOptions solo(const std::string& data_dir) {
    return member(data_dir, "solo", "http://127.0.0.1:2380", "solo=http://127.0.0.1:2380");
  }

  static std::unique_ptr<EmbeddedEngine> start(const ctl::RestoredMember& restored,
                                               std::shared_ptr<InProcessNetwork> network = {}) {
    EngineOptions options;
    options.data_dir = restored.data_dir;
    options.node_id = restored.ids.member_id;
    options.initial_members = restored.ids.member_ids;
    options.network = std::move(network);
    Result<std::unique_ptr<EmbeddedEngine>> engine = EmbeddedEngine::start(options);
    EXPECT_TRUE(engine) << engine.status().message();
    return engine ? std::move(*engine) : nullptr;
  }

  void expect_every_key(EmbeddedEngine& engine) {
    for (int i = 0; i < kKeys; ++i) {
      Result<std::optional<KeyValue>> got =
          engine.client().get(key_of(i), {.consistency = Read::Linearizable});
      ASSERT_TRUE(got) << got.status().message();
      ASSERT_TRUE(got->has_value()) << key_of(i);
      EXPECT_EQ((*got)->value, "value " + std::to_string(i));
      EXPECT_EQ((*got)->mod_revision, i + 2);  // an empty store is at revision 1
    }
  }

  std::string dir_ = fresh_test_dir();
  std::string file_ = dir_ + "/snapshot.db";
  int64_t revision_ = 0;
};

TEST_F(SnapshotRestore, StatusReportsTheRevisionAndTheKeys) {
  Result<ctl::SnapshotReport> report = ctl::inspect_snapshot_file(file_);
  ASSERT_TRUE(report) << report.status().message();
  EXPECT_EQ(report->image.revision, revision_);
  EXPECT_EQ(report->image.keys, kKeys);
  EXPECT_EQ(report->image.applied_index, Index{kKeys + 1});
  std::ostringstream out;
  ctl::print_snapshot_report(*report, out);
  EXPECT_NE(out.str().find("revision:         " + std::to_string(revision_)), std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("checksum ok"), std::string::npos) << out.str();
}

TEST_F(SnapshotRestore, IdsAreTheOnesTheServerDerivesFromTheSameFlags) {
  // etcd's well-known ids for its defaults, which etcdctl's restore defaults are too.
  Result<cluster::ClusterIds> defaults = ctl::restore_ids(ctl::RestoreOptions{});
  ASSERT_TRUE(defaults) << defaults.status().message();
  EXPECT_EQ(cluster::format_id(defaults->member_id), "8e9e05c52164694d");
  EXPECT_EQ(cluster::format_id(defaults->cluster_id), "cdf818194e3a8c32");

  const std::string cluster = "a=http://10.0.0.1:2380,b=http://10.0.0.2:2380";
  Result<cluster::ClusterIds> restored =
      ctl::restore_ids(member("unused", "b", "http://10.0.0.2:2380", cluster));
  ASSERT_TRUE(restored) << restored.status().message();
  const std::vector<std::string> flags = {"--name=b", "--initial-cluster=" + cluster,
                                          "--initial-advertise-peer-urls=http://10.0.0.2:2380"};
  Result<MemberConfig> config = parse_member_config(flags, {});
  ASSERT_TRUE(config) << config.status().message();
  Result<cluster::ClusterIdentity> identity = cluster::derive_identity(*config);
  ASSERT_TRUE(identity);
  EXPECT_EQ(restored->member_id, identity->member_id);
  EXPECT_EQ(restored->cluster_id, identity->cluster_id);
  EXPECT_EQ(restored->member_ids.size(), 2u);
}

TEST_F(SnapshotRestore, AnEngineStartsOnTheRestoredDirWithEveryKeyAtItsRevision) {
  Result<ctl::RestoredMember> restored = ctl::restore_snapshot(file_, solo(dir_ + "/restored"));
  ASSERT_TRUE(restored) << restored.status().message();
  EXPECT_EQ(restored->image.keys, kKeys);
  std::unique_ptr<EmbeddedEngine> engine = start(*restored);
  ASSERT_NE(engine, nullptr);
  ASSERT_TRUE(engine->wait_ready(std::chrono::seconds(10)));
  EXPECT_EQ(engine->members().voters, std::vector<NodeId>{restored->ids.member_id});
  expect_every_key(*engine);
  Result<PutResponse> put = engine->client().put("after", "restore");
  ASSERT_TRUE(put) << put.status().message();
  EXPECT_EQ(put->revision, revision_ + 1);
  ASSERT_TRUE(engine->stop());
}

TEST_F(SnapshotRestore, MembersRestoredFromOneFileFormANewCluster) {
  const std::string cluster =
      "m1=http://127.0.0.1:12380,m2=http://127.0.0.1:22380,m3=http://127.0.0.1:32380";
  std::shared_ptr<InProcessNetwork> network = InProcessNetwork::create();
  std::vector<std::unique_ptr<EmbeddedEngine>> engines;
  for (const auto& [name, port] :
       {std::pair<std::string, int>{"m1", 12380}, std::pair<std::string, int>{"m2", 22380},
        std::pair<std::string, int>{"m3", 32380}}) {
    Result<ctl::RestoredMember> restored = ctl::restore_snapshot(
        file_,
        member(dir_ + "/" + name, name, "http://127.0.0.1:" + std::to_string(port), cluster));
    ASSERT_TRUE(restored) << restored.status().message();
    engines.push_back(start(*restored, network));
    ASSERT_NE(engines.back(), nullptr);
  }
  for (auto& engine : engines) ASSERT_TRUE(engine->wait_ready(std::chrono::seconds(20)));
  EXPECT_EQ(engines[0]->members().voters.size(), 3u);
  expect_every_key(*engines[2]);
  for (auto& engine : engines) (void)engine->stop();
}

TEST_F(SnapshotRestore, ADamagedFileIsRefusedAndNothingIsWritten) {
  flip_byte(file_, read_bytes(file_).size() / 2);
  const std::string target = dir_ + "/restored";
  Result<ctl::RestoredMember> restored = ctl::restore_snapshot(file_, solo(target));
  ASSERT_FALSE(restored);
  EXPECT_EQ(restored.status().code(), StatusCode::kCorruption) << restored.status().message();
  EXPECT_FALSE(std::filesystem::exists(target));
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find(".restored"), std::string::npos)
        << entry.path();
  }
  EXPECT_FALSE(ctl::inspect_snapshot_file(file_));
}

TEST_F(SnapshotRestore, ADataDirInUseIsNeverOverwritten) {
  const std::string target = dir_ + "/used";
  std::filesystem::create_directories(target);
  write_bytes(target + "/member", "precious");
  Result<ctl::RestoredMember> restored = ctl::restore_snapshot(file_, solo(target));
  ASSERT_FALSE(restored);
  EXPECT_NE(restored.status().message().find("not empty"), std::string::npos);
  EXPECT_EQ(read_bytes(target + "/member"), "precious");
}

TEST_F(SnapshotRestore, AnEmptyDataDirIsFilled) {
  const std::string target = dir_ + "/empty";
  std::filesystem::create_directories(target);
  Result<ctl::RestoredMember> restored = ctl::restore_snapshot(file_, solo(target));
  ASSERT_TRUE(restored) << restored.status().message();
  EXPECT_TRUE(std::filesystem::exists(target + "/wal"));
  EXPECT_TRUE(std::filesystem::exists(target + "/kv"));
  EXPECT_TRUE(std::filesystem::exists(target + "/server-ids"));
}

TEST_F(SnapshotRestore, CommandLineErrorsAreOneLineAndExitTwo) {
  std::ostringstream out;
  std::ostringstream err;
  const std::vector<std::string> args = {"--bogus", "x"};
  EXPECT_EQ(ctl::run_snapshot_restore(args, out, err), 2);
  EXPECT_NE(err.str().find("unknown flag --bogus"), std::string::npos) << err.str();
  const std::vector<std::string> help = {"--help"};
  EXPECT_EQ(ctl::run_snapshot_status(help, out, err), 0);
  EXPECT_NE(out.str().find("usage: dengine-ctl snapshot status FILE"), std::string::npos);
}

}  // namespace
}  // namespace dengine::test
