// --quota-backend-bytes end to end with etcdctl: the write that would pass the quota is refused
// with etcd's "database space exceeded" and raises the NOSPACE alarm; while it stands, reads and
// deletes are served and what would grow the store is refused; compaction, defragmentation and
// `alarm disarm` clear it. A CORRUPT alarm refuses every write until disarmed.

#include <chrono>
#include <memory>
#include <regex>
#include <string>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

constexpr int kQuotaBytes = 1024 * 1024;
const std::string kValue(4000, 'x');
const std::string kNoSpace = "etcdserver: mvcc: database space exceeded";

class QuotaAlarm : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.started()) << server_.log(); }

  std::string ok(const std::vector<std::string>& args) {
    CommandResult result = server_.etcdctl(args);
    EXPECT_EQ(result.exit_code, 0) << args[0] << ": " << result.err;
    return result.out;
  }
  std::string fails(const std::vector<std::string>& args) {
    CommandResult result = server_.etcdctl(args);
    EXPECT_NE(result.exit_code, 0) << args[0] << " succeeded: " << result.out;
    return result.err;
  }

  // Puts 4 kB values over gRPC until one is refused: how many went in, and the refusal.
  std::pair<int, grpc::Status> fill() {
    auto kv = etcdserverpb::KV::NewStub(
        grpc::CreateChannel(server_.endpoint(), grpc::InsecureChannelCredentials()));
    for (int i = 0; i < 4 * kQuotaBytes / static_cast<int>(kValue.size()); ++i) {
      etcdserverpb::PutRequest put;
      put.set_key("fill/" + std::to_string(i));
      put.set_value(kValue);
      etcdserverpb::PutResponse response;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      const grpc::Status status = kv->Put(&context, put, &response);
      if (!status.ok()) return {i, status};
    }
    return {-1, grpc::Status::OK};
  }

  ServerProcess server_{fresh_test_dir() + "/data",
                        {"--quota-backend-bytes=" + std::to_string(kQuotaBytes)}};
};

TEST_F(QuotaAlarm, TheQuotaRaisesNoSpaceWhichCapsWritesUntilDisarmed) {
  const auto [written, refusal] = fill();
  // About a quota's worth of values went in before the refusal (keys and overhead aside).
  ASSERT_GT(written, kQuotaBytes / static_cast<int>(kValue.size()) / 2);
  EXPECT_LT(written, 2 * kQuotaBytes / static_cast<int>(kValue.size()));
  EXPECT_EQ(refusal.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(refusal.error_message(), kNoSpace);

  // The alarm is raised through the log; it stands until disarmed.
  std::string alarms = ok({"alarm", "list"});
  EXPECT_TRUE(std::regex_search(alarms, std::regex("memberID:\\d+ alarm:NOSPACE"))) << alarms;
  EXPECT_NE(ok({"endpoint", "status"}).find("alarm:NOSPACE"), std::string::npos);

  // Reads and deletes are served; nothing that grows the store is.
  EXPECT_EQ(ok({"get", "fill/0", "--print-value-only"}), kValue + "\n");
  EXPECT_NE(fails({"put", "small", "v"}).find(kNoSpace), std::string::npos);
  EXPECT_NE(fails({"lease", "grant", "60"}).find(kNoSpace), std::string::npos);
  const CommandResult txn = server_.etcdctl({"txn", "-i"}, "\nput t v\n\n\n");
  EXPECT_NE(txn.err.find(kNoSpace), std::string::npos) << txn.out << txn.err;
  EXPECT_EQ(ok({"del", "fill/", "--prefix"}), std::to_string(written) + "\n");

  // Make room, then disarm: writes go through again.
  const std::string fields = ok({"get", "fill/0", "-w", "fields"});
  std::smatch revision;
  ASSERT_TRUE(std::regex_search(fields, revision, std::regex("\"Revision\" : (\\d+)"))) << fields;
  ok({"compact", revision[1]});
  ok({"defrag"});
  EXPECT_NE(ok({"alarm", "disarm"}).find("alarm:NOSPACE"), std::string::npos);
  EXPECT_EQ(ok({"alarm", "list"}), "");
  EXPECT_EQ(ok({"put", "small", "v"}), "OK\n");
  EXPECT_EQ(ok({"endpoint", "status"}).find("alarm:"), std::string::npos);
}

// Nothing in dengine raises CORRUPT yet (etcd's cross-member hash check is not there), but an
// operator may, through Maintenance.Alarm; then writes are refused and reads served, as in etcd.
TEST_F(QuotaAlarm, ACorruptAlarmRefusesWritesAndServesReadsUntilDisarmed) {
  EXPECT_EQ(ok({"put", "before", "v"}), "OK\n");
  auto maintenance = etcdserverpb::Maintenance::NewStub(
      grpc::CreateChannel(server_.endpoint(), grpc::InsecureChannelCredentials()));
  etcdserverpb::StatusResponse status;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(maintenance->Status(&context, etcdserverpb::StatusRequest(), &status).ok());
  }
  etcdserverpb::AlarmRequest activate;
  activate.set_action(etcdserverpb::AlarmRequest::ACTIVATE);
  activate.set_memberid(status.header().member_id());
  activate.set_alarm(etcdserverpb::CORRUPT);
  etcdserverpb::AlarmResponse activated;
  {
    grpc::ClientContext context;
    const grpc::Status raised = maintenance->Alarm(&context, activate, &activated);
    ASSERT_TRUE(raised.ok()) << raised.error_message();
  }
  EXPECT_NE(ok({"alarm", "list"}).find("alarm:CORRUPT"), std::string::npos);

  EXPECT_NE(fails({"put", "after", "v"}).find("etcdserver: corrupt cluster"), std::string::npos);
  EXPECT_NE(fails({"del", "before"}).find("etcdserver: corrupt cluster"), std::string::npos);
  EXPECT_NE(fails({"lease", "grant", "60"}).find("etcdserver: corrupt cluster"), std::string::npos);
  EXPECT_EQ(ok({"get", "before", "--print-value-only"}), "v\n");

  EXPECT_NE(ok({"alarm", "disarm"}).find("alarm:CORRUPT"), std::string::npos);
  EXPECT_EQ(ok({"put", "after", "v"}), "OK\n");
}

}  // namespace
}  // namespace dengine::test
