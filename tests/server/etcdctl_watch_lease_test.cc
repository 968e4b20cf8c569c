// dengine-server's Watch and Lease services driven by Debian's etcdctl 3.4.23: watches from a
// past revision and live ones, prefixes, prev-kv, a compacted start revision; leases granted,
// kept alive, listed, inspected with their keys, revoked, and a key expiring with its lease.

#include <chrono>
#include <regex>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "tests/server/server_process.h"
#include "tests/support/scratch_dir.h"

namespace dengine::test {
namespace {

class EtcdctlWatchLease : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.started()) << "dengine-server did not start:\n" << server_.log();
  }

  std::string ok(const std::vector<std::string>& args) {
    CommandResult result = server_.etcdctl(args);
    EXPECT_EQ(result.exit_code, 0) << "etcdctl failed: " << result.err;
    return result.out;
  }

  // The store revision now, from a read's header.
  int64_t current_revision() {
    const std::string fields = ok({"get", "any", "-w", "fields"});
    std::smatch match;
    if (!std::regex_search(fields, match, std::regex("\"Revision\" : (\\d+)"))) return -1;
    return std::stoll(match[1]);
  }

  // The id of a fresh lease of `ttl_seconds`, in etcdctl's hex.
  std::string grant(int ttl_seconds) {
    const std::string granted = ok({"lease", "grant", std::to_string(ttl_seconds)});
    std::smatch match;
    EXPECT_TRUE(std::regex_search(granted, match, std::regex("lease ([0-9a-f]+) granted")))
        << granted;
    return match.empty() ? "" : match[1].str();
  }

  ServerProcess server_{fresh_test_dir() + "/data"};
};

TEST_F(EtcdctlWatchLease, AWatchFromARevisionReplaysEveryChangeWithPreviousValues) {
  const int64_t start = current_revision() + 1;
  ok({"put", "k", "v1"});
  ok({"put", "k", "v2"});
  ok({"del", "k"});
  // etcdctl prints each event's type, then its previous key-value if any, then its key-value
  // (a delete's has no value).
  const std::string expected = "PUT\nk\nv1\nPUT\nk\nv1\nk\nv2\nDELETE\nk\nv2\nk\n\n";
  CommandResult watched = server_.etcdctl_until(
      {"watch", "k", "--rev=" + std::to_string(start), "--prev-kv"}, expected);
  EXPECT_EQ(watched.out, expected) << watched.err;
}

TEST_F(EtcdctlWatchLease, APrefixWatchSeesLiveWritesInOrderAndNothingElse) {
  const int64_t start = current_revision() + 1;
  const std::string expected = "PUT\nw/1\na\nPUT\nw/2\nb\nDELETE\nw/1\n\n";
  CommandResult watched;
  std::thread watcher([&] {
    watched = server_.etcdctl_until({"watch", "w/", "--prefix", "--rev=" + std::to_string(start)},
                                    expected);
  });
  ok({"put", "w/1", "a"});
  ok({"put", "elsewhere", "x"});
  ok({"put", "w/2", "b"});
  ok({"del", "w/1"});
  watcher.join();
  EXPECT_EQ(watched.out, expected) << watched.err;
}

TEST_F(EtcdctlWatchLease, AWatchFromACompactedRevisionEndsWithEtcdsMessage) {
  ok({"put", "c", "1"});
  ok({"put", "c", "2"});
  const int64_t now = current_revision();
  ok({"compact", std::to_string(now)});
  // etcdctl exits once the server cancels the watch; the deadline only bounds a hang.
  CommandResult watched =
      server_.etcdctl_until({"watch", "c", "--rev=2"}, "never printed", std::chrono::seconds(30));
  EXPECT_NE(watched.err.find("required revision has been compacted"), std::string::npos)
      << watched.out << watched.err;
}

TEST_F(EtcdctlWatchLease, ALeaseKeepsItsKeysUntilRevokedThenTheyAreGone) {
  const std::string lease = grant(60);
  ASSERT_FALSE(lease.empty());
  ok({"put", "svc/a", "10.0.0.1", "--lease=" + lease});
  ok({"put", "svc/b", "10.0.0.2", "--lease=" + lease});
  const std::string ttl = ok({"lease", "timetolive", lease, "--keys"});
  EXPECT_NE(ttl.find("granted with TTL(60s)"), std::string::npos) << ttl;
  EXPECT_NE(ttl.find("attached keys([svc/a svc/b])"), std::string::npos) << ttl;
  EXPECT_EQ(ok({"lease", "keep-alive", "--once", lease}),
            "lease " + lease + " keepalived with TTL(60)\n");
  EXPECT_EQ(ok({"lease", "list"}), "found 1 leases\n" + lease + "\n");
  EXPECT_EQ(ok({"lease", "revoke", lease}), "lease " + lease + " revoked\n");
  EXPECT_EQ(ok({"get", "svc/", "--prefix"}), "");
  EXPECT_EQ(ok({"lease", "timetolive", lease}), "lease " + lease + " already expired\n");
}

TEST_F(EtcdctlWatchLease, AKeyExpiresWithItsLease) {
  const std::string lease = grant(2);  // the minimum TTL with etcd's default timing
  ASSERT_FALSE(lease.empty());
  ok({"put", "session", "alive", "--lease=" + lease});
  EXPECT_EQ(ok({"get", "session"}), "session\nalive\n");
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string value = "session\nalive\n";
  while (!value.empty() && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    value = ok({"get", "session"});
  }
  EXPECT_EQ(value, "") << "the key outlived its lease";
  EXPECT_EQ(ok({"lease", "timetolive", lease}), "lease " + lease + " already expired\n");
}

TEST_F(EtcdctlWatchLease, AKeepAliveOfAnUnknownLeaseAnswersTtlZero) {
  CommandResult kept = server_.etcdctl({"lease", "keep-alive", "--once", "1234"});
  EXPECT_NE(kept.exit_code, 0);
  EXPECT_NE((kept.out + kept.err).find("not found"), std::string::npos) << kept.out << kept.err;
}

}  // namespace
}  // namespace dengine::test
