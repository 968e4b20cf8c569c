// dengine-server driven by Debian's etcdctl 3.4.23, as an etcd user would drive etcd: the KV
// API (put, get with prefixes, ranges, limits, sorting and revisions, del, txn in interactive
// mode, compact), etcd's errors, endpoint status and health, and a graceful restart.

#include <string>

#include <gtest/gtest.h>

#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

class EtcdctlKv : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.started()) << "dengine-server did not start:\n" << server_.log();
  }

  // etcdctl's stdout, expecting success.
  std::string ok(const std::vector<std::string>& args, const std::string& input = "") {
    CommandResult result = server_.etcdctl(args, input);
    EXPECT_EQ(result.exit_code, 0) << "etcdctl failed: " << result.err;
    return result.out;
  }
  // etcdctl's stderr, expecting failure.
  std::string fails(const std::vector<std::string>& args) {
    CommandResult result = server_.etcdctl(args);
    EXPECT_NE(result.exit_code, 0) << "etcdctl succeeded: " << result.out;
    return result.err;
  }

  std::string data_dir_ = fresh_test_dir() + "/data";
  ServerProcess server_{data_dir_};
};

TEST_F(EtcdctlKv, PutThenGetReadsTheValueBack) {
  EXPECT_EQ(ok({"put", "greeting", "hello"}), "OK\n");
  EXPECT_EQ(ok({"get", "greeting"}), "greeting\nhello\n");
  EXPECT_EQ(ok({"get", "missing"}), "");
}

TEST_F(EtcdctlKv, PrefixRangeLimitAndSortFollowEtcd) {
  for (const char* key : {"app/b", "app/a", "app/c", "other"}) ok({"put", key, key});
  EXPECT_EQ(ok({"get", "app/", "--prefix", "--keys-only"}), "app/a\n\napp/b\n\napp/c\n\n");
  EXPECT_EQ(ok({"get", "app/a", "app/c", "--keys-only"}), "app/a\n\napp/b\n\n");
  EXPECT_EQ(ok({"get", "app/", "--prefix", "--keys-only", "--limit=2"}), "app/a\n\napp/b\n\n");
  // Written b, a, c: by modification, newest first.
  EXPECT_EQ(ok({"get", "app/", "--prefix", "--keys-only", "--sort-by=MODIFY", "--order=DESCEND"}),
            "app/c\n\napp/a\n\napp/b\n\n");
  const std::string counted = ok({"get", "", "--from-key", "--limit=1", "-w", "fields"});
  EXPECT_NE(counted.find("\"Count\" : 4"), std::string::npos) << counted;
}

TEST_F(EtcdctlKv, RevisionsCountFromTwoAndOldValuesStayReadable) {
  ok({"put", "k", "v1"});  // revision 2: an empty store is at revision 1
  ok({"put", "k", "v2"});  // revision 3
  EXPECT_EQ(ok({"get", "k", "--rev=2"}), "k\nv1\n");
  EXPECT_EQ(ok({"get", "k", "--rev=3"}), "k\nv2\n");
  const std::string fields = ok({"get", "k", "-w", "fields"});
  EXPECT_NE(fields.find("\"Revision\" : 3"), std::string::npos) << fields;
  EXPECT_NE(fields.find("\"CreateRevision\" : 2"), std::string::npos) << fields;
  EXPECT_NE(fields.find("\"ModRevision\" : 3"), std::string::npos) << fields;
  EXPECT_NE(fields.find("\"Version\" : 2"), std::string::npos) << fields;
  EXPECT_NE(fields.find("\"RaftTerm\" : "), std::string::npos) << fields;
}

TEST_F(EtcdctlKv, DeleteByPrefixCountsAndReturnsPreviousValues) {
  for (const char* key : {"d/1", "d/2", "d/3"}) ok({"put", key, "x"});
  EXPECT_EQ(ok({"del", "d/1", "--prev-kv"}), "1\nd/1\nx\n");
  EXPECT_EQ(ok({"del", "d/", "--prefix"}), "2\n");
  EXPECT_EQ(ok({"del", "d/", "--prefix"}), "0\n");
}

TEST_F(EtcdctlKv, InteractiveTxnTakesTheBranchItsComparesChoose) {
  ok({"put", "lock", "free"});
  // etcdctl's interactive txn reads compares, then success ops, then failure ops, each list
  // ended by an empty line.
  const std::string taken = ok({"txn", "-i"},
                               "value(\"lock\") = \"free\"\n\n"
                               "put lock held\nget lock\n\n"
                               "get lock\n\n");
  // etcdctl prompts on stdout before the result.
  const std::string prompts =
      "compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\n";
  EXPECT_EQ(taken, prompts + "SUCCESS\n\nOK\n\nlock\nheld\n");
  const std::string refused = ok({"txn", "-i"},
                                 "value(\"lock\") = \"free\"\n\n"
                                 "put lock held\n\n"
                                 "get lock\n\n");
  EXPECT_EQ(refused, prompts + "FAILURE\n\nlock\nheld\n");
}

TEST_F(EtcdctlKv, ACompactedRevisionIsRefusedWithEtcdsMessage) {
  ok({"put", "c", "1"});
  ok({"put", "c", "2"});
  ok({"put", "c", "3"});  // revision 4
  EXPECT_EQ(ok({"compact", "3"}), "compacted revision 3\n");
  EXPECT_NE(
      fails({"get", "c", "--rev=2"}).find("etcdserver: mvcc: required revision has been compacted"),
      std::string::npos);
  EXPECT_EQ(ok({"get", "c", "--rev=3"}), "c\n2\n");  // at the compacted revision: still served
  EXPECT_NE(fails({"get", "c", "--rev=99"})
                .find("etcdserver: mvcc: required revision is a future revision"),
            std::string::npos);
}

TEST_F(EtcdctlKv, BadRequestsGetEtcdsErrorsAndTheServerKeepsServing) {
  EXPECT_NE(fails({"put", "", "v"}).find("etcdserver: key is not provided"), std::string::npos);
  // Over the 1.5 MiB --max-request-bytes, under etcdctl's own 2 MiB send limit.
  const std::string too_large(1'600'000, 'x');
  // Too long for one argument (Linux caps one at 128 KiB): etcdctl reads the value from stdin.
  const CommandResult big = server_.etcdctl({"put", "big"}, too_large);
  EXPECT_NE(big.exit_code, 0);
  EXPECT_NE(big.err.find("etcdserver: request is too large"), std::string::npos) << big.err;
  EXPECT_NE(fails({"put", "k", "v", "--lease=1234"}).find("etcdserver: requested lease not found"),
            std::string::npos);
  // A txn over --max-txn-ops (128), and one writing a key twice.
  std::string many = "\n";
  for (int i = 0; i < 129; ++i) many += "put many/" + std::to_string(i) + " v\n";
  const CommandResult too_many = server_.etcdctl({"txn"}, many + "\n\n");
  EXPECT_NE(too_many.exit_code, 0);
  EXPECT_NE(too_many.err.find("etcdserver: too many operations in txn request"), std::string::npos)
      << too_many.err;
  const CommandResult twice = server_.etcdctl({"txn"}, "\nput same 1\nput same 2\n\n\n");
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.err.find("etcdserver: duplicate key given in txn request"), std::string::npos)
      << twice.err;
  EXPECT_EQ(ok({"get", "many/", "--prefix"}), "");
  EXPECT_EQ(ok({"put", "after", "fine"}), "OK\n");
}

TEST_F(EtcdctlKv, GarbageOnTheClientPortLeavesTheServerServing) {
  const std::string& endpoint = server_.endpoint();
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  for (const std::string& garbage :
       {std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), std::string(4096, '\xff'),
        std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string(64, '\0')}) {
    EXPECT_TRUE(send_raw_bytes(port, garbage));
  }
  EXPECT_EQ(ok({"put", "still", "serving"}), "OK\n");
  EXPECT_EQ(ok({"get", "still"}), "still\nserving\n");
}

TEST_F(EtcdctlKv, EndpointStatusAndHealthDescribeTheMember) {
  // etcdctl 3.4 reports health on stderr.
  const CommandResult health = server_.etcdctl({"endpoint", "health"});
  EXPECT_EQ(health.exit_code, 0) << health.err;
  EXPECT_NE(health.err.find("is healthy"), std::string::npos) << health.err;
  const std::string status = ok({"endpoint", "status", "-w", "fields"});
  EXPECT_NE(status.find("\"Version\" : \"3.4.23\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"Leader\" : "), std::string::npos) << status;
  EXPECT_EQ(status.find("\"Leader\" : 0\n"), std::string::npos) << status;
}

TEST_F(EtcdctlKv, AGracefulRestartKeepsEveryAcknowledgedWrite) {
  for (int i = 0; i < 20; ++i) ok({"put", "r/" + std::to_string(i), std::to_string(i)});
  EXPECT_EQ(server_.terminate(), 0) << server_.log();
  ServerProcess restarted(data_dir_);
  ASSERT_TRUE(restarted.started()) << restarted.log();
  CommandResult count = restarted.etcdctl({"get", "r/", "--prefix", "--limit=1", "-w", "fields"});
  EXPECT_NE(count.out.find("\"Count\" : 20"), std::string::npos) << count.out << count.err;
  CommandResult put = restarted.etcdctl({"put", "r/next", "x", "-w", "fields"});
  EXPECT_NE(put.out.find("\"Revision\" : 22"), std::string::npos) << put.out << put.err;
}

}  // namespace
}  // namespace dengine::test
