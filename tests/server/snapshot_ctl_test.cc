// etcd's backup and restore with dengine: `etcdctl snapshot save` from a running dengine-server,
// `dengine-ctl snapshot status` and `restore`, and a new dengine-server on the restored data dir
// serving every key as it was; damaged files refused; `dengine-ctl wal inspect` on a real data
// dir; and no image left behind by a client that hangs up mid-stream.

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

constexpr int kTxns = 3;
constexpr int kKeysPerTxn = 100;  // under etcd's max-txn-ops of 128

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

CommandResult ctl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {DENGINE_CTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv);
}

// `etcdctl get "" --from-key -w fields` without the lines that name the member and its term:
// every key with its value, revisions, version and lease, and the store's revision.
std::string every_key(const ServerProcess& server) {
  const CommandResult got = server.etcdctl({"get", "", "--from-key", "-w", "fields"});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  std::istringstream lines(got.out);
  std::string kept;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"ClusterID\"") == 0 || line.find("\"MemberID\"") == 0 ||
        line.find("\"RaftTerm\"") == 0) {
      continue;
    }
    kept += line + "\n";
  }
  return kept;
}

// A line of the response header `etcdctl get -w fields` prints: "\"ClusterID\" : 123".
std::string header_field(const ServerProcess& server, const std::string& field) {
  const CommandResult got = server.etcdctl({"get", "any", "-w", "fields"});
  const size_t at = got.out.find("\"" + field + "\"");
  return at == std::string::npos ? std::string() : got.out.substr(at, got.out.find('\n', at) - at);
}

class SnapshotCtl : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(source_.started()) << "dengine-server did not start:\n" << source_.log();
  }

  // A few hundred keys at several revisions, some rewritten, one deleted.
  void write_keys() {
    for (int txn = 0; txn < kTxns; ++txn) {
      std::string ops = "\n";  // no compares
      for (int i = 0; i < kKeysPerTxn; ++i) {
        const int key = txn * kKeysPerTxn + i;
        ops += "put key/" + std::to_string(1000 + key) + " value-" + std::to_string(key) + "\n";
      }
      const CommandResult done = source_.etcdctl({"txn"}, ops + "\n\n");
      ASSERT_EQ(done.exit_code, 0) << done.err;
    }
    for (int key = 0; key < 5; ++key) {
      ASSERT_EQ(
          source_.etcdctl({"put", "key/" + std::to_string(1000 + key), "rewritten"}).exit_code, 0);
    }
    ASSERT_EQ(source_.etcdctl({"del", "key/1299"}).exit_code, 0);
  }

  void save() {
    const CommandResult saved = source_.etcdctl({"snapshot", "save", file_});
    ASSERT_EQ(saved.exit_code, 0) << saved.err;
    EXPECT_EQ(saved.out, "Snapshot saved at " + file_ + "\n");
  }

  std::string dir_ = fresh_test_dir();
  std::string file_ = dir_ + "/backup.db";
  ServerProcess source_{dir_ + "/source"};
};

TEST_F(SnapshotCtl, ARestoredMemberServesEveryKeyAtItsRevision) {
  write_keys();
  save();
  EXPECT_EQ(std::filesystem::file_size(file_) % 512, 32u);  // etcd's own convention

  const CommandResult status = ctl({"snapshot", "status", file_});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("checksum ok"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("keys:             299\n"), std::string::npos) << status.out;

  const std::vector<MemberFlags> plan = plan_cluster(1, "restored-cluster");
  const std::string restored_dir = dir_ + "/restored";
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(plan[0].peer_port);
  const CommandResult restored =
      ctl({"snapshot", "restore", file_, "--data-dir", restored_dir, "--name", plan[0].name,
           "--initial-cluster", plan[0].initial_cluster, "--initial-cluster-token",
           plan[0].initial_cluster_token, "--initial-advertise-peer-urls", peer_url});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;

  ServerProcess member(plan[0], restored_dir);
  ASSERT_TRUE(member.wait_healthy()) << member.log();
  const std::string expected = every_key(source_);
  EXPECT_NE(expected.find("\"Count\" : 299"), std::string::npos) << expected;
  EXPECT_EQ(every_key(member), expected);
  // A new cluster, with ids of its own, that takes writes after the snapshot's revision.
  EXPECT_NE(header_field(member, "ClusterID"), header_field(source_, "ClusterID"));
  EXPECT_EQ(member.etcdctl({"put", "after", "restore"}).exit_code, 0);
}

TEST_F(SnapshotCtl, DamagedSnapshotsAreRefusedAndRestoreWritesNothing) {
  write_keys();
  save();
  const std::string bytes = read_bytes(file_);
  std::string flipped = bytes;
  flipped[bytes.size() / 2] = static_cast<char>(flipped[bytes.size() / 2] ^ 0x10);
  const std::vector<std::pair<std::string, std::string>> damaged = {
      {"bit flip", flipped}, {"truncation", bytes.substr(0, bytes.size() - 700)}};
  for (const auto& [damage, contents] : damaged) {
    SCOPED_TRACE(damage);
    const std::string path = dir_ + "/damaged.db";
    write_bytes(path, contents);
    const CommandResult status = ctl({"snapshot", "status", path});
    EXPECT_EQ(status.exit_code, 1);
    EXPECT_NE(status.err.find(path), std::string::npos) << status.err;
    EXPECT_NE(status.err.find("offset"), std::string::npos) << status.err;
    EXPECT_TRUE(status.err.find("corrupt") != std::string::npos ||
                status.err.find("checksum") != std::string::npos)
        << status.err;
    const std::string target = dir_ + "/never";
    const CommandResult restore = ctl({"snapshot", "restore", path, "--data-dir", target});
    EXPECT_EQ(restore.exit_code, 1);
    EXPECT_NE(restore.err.find("corrupt"), std::string::npos) << restore.err;
    EXPECT_FALSE(std::filesystem::exists(target));
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      EXPECT_EQ(entry.path().filename().string().find(".never"), std::string::npos);
    }
  }
}

TEST_F(SnapshotCtl, WalInspectNamesTheFileAndOffsetOfAFlippedByte) {
  write_keys();
  ASSERT_EQ(source_.terminate(), 0);
  const std::string data_dir = dir_ + "/source";
  const CommandResult clean = ctl({"wal", "inspect", data_dir});
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_NE(clean.out.find("0000000000000001.wal"), std::string::npos) << clean.out;
  EXPECT_NE(clean.out.find("recovery: ok"), std::string::npos) << clean.out;

  // Mid-segment: halfway through the records (the rest of the segment is preallocated zeros).
  const std::string segment = data_dir + "/wal/0000000000000001.wal";
  std::string bytes = read_bytes(segment);
  const size_t used = bytes.find_last_not_of('\0') + 1;
  bytes[used / 2] = static_cast<char>(bytes[used / 2] ^ 0x01);
  write_bytes(segment, bytes);
  const CommandResult damaged = ctl({"wal", "inspect", data_dir});
  EXPECT_EQ(damaged.exit_code, 1);
  EXPECT_NE(damaged.err.find("0000000000000001.wal"), std::string::npos) << damaged.err;
  EXPECT_NE(damaged.err.find("at offset "), std::string::npos) << damaged.err;
  EXPECT_TRUE(damaged.err.find("corrupt") != std::string::npos ||
              damaged.err.find("checksum") != std::string::npos)
      << damaged.err;
  EXPECT_EQ(read_bytes(segment), bytes);  // inspected, not repaired
}

TEST_F(SnapshotCtl, AClientThatHangsUpMidStreamLeavesNoImageBehind) {
  // Incompressible values, so the stream spans many responses of 1 MiB.
  std::string value(1 << 20, '\0');
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  for (char& c : value) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    c = static_cast<char>(1 + (state >> 56) % 255);  // no NUL: etcdctl reads it from stdin
  }
  for (int i = 0; i < 6; ++i) {
    const CommandResult put = source_.etcdctl({"put", "big/" + std::to_string(i)}, value);
    ASSERT_EQ(put.exit_code, 0) << put.err;
  }
  auto maintenance = etcdserverpb::Maintenance::NewStub(
      grpc::CreateChannel(source_.endpoint(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<etcdserverpb::SnapshotResponse>> reader =
      maintenance->Snapshot(&context, etcdserverpb::SnapshotRequest());
  etcdserverpb::SnapshotResponse first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_GT(first.remaining_bytes(), 3u << 20);
  EXPECT_FALSE(first.has_header());  // as etcd 3.4
  context.TryCancel();
  (void)reader->Finish();

  const std::string images = dir_ + "/source/snapshots";
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool left_behind = true;
  while (left_behind && std::chrono::steady_clock::now() < give_up) {
    left_behind = false;
    for (const auto& entry : std::filesystem::directory_iterator(images)) {
      left_behind = left_behind || entry.path().filename().string().find("backup-") == 0;
    }
    if (left_behind) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(left_behind);
  save();  // and the member still takes snapshots
}

}  // namespace
}  // namespace dengine::test
